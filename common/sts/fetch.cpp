#include "sts/fetch.h"

#include <cctype>

#include "util/asio.h"  // first: see its note on <utility>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "dns/rdata.h"
#include "log/sanitize.h"
#include "probe/target.h"
#include "sts/policy.h"
#include "util/watchdog.h"

namespace mxtls::sts {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

std::string seconds_text(std::chrono::milliseconds ms) {
  const auto s = ms.count() / 1000.0;
  std::string t = std::to_string(s);
  t = t.substr(0, t.find('.') + 2);
  return t + "s";
}


}  // namespace

struct PolicyFetcher::Tls {
  asio::ssl::context ctx{asio::ssl::context::tls_client};
};

bool is_text_plain(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  constexpr std::string_view kWanted = "text/plain";
  if (type.size() != kWanted.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != kWanted[i]) return false;
  return true;
}

PolicyFetcher::PolicyFetcher(asio::io_context& io, dns::Resolver& resolver, const FetchSettings& settings)
    : io_(io), resolver_(resolver), settings_(settings), tls_(std::make_unique<Tls>()) {
  SSL_CTX* c = tls_->ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  if (settings_.ca_file.empty() && settings_.ca_path.empty()) {
    if (SSL_CTX_set_default_verify_paths(c) != 1) throw std::runtime_error("mta_sts: cannot load the system's trust store");
  } else if (SSL_CTX_load_verify_locations(c, settings_.ca_file.empty() ? nullptr : settings_.ca_file.c_str(),
                                           settings_.ca_path.empty() ? nullptr : settings_.ca_path.c_str()) != 1) {
    throw std::runtime_error("mta_sts.ca_file: cannot load trust anchors from '" + settings_.ca_file + "'");
  }
}

PolicyFetcher::~PolicyFetcher() = default;

asio::awaitable<FetchResult> PolicyFetcher::fetch(const std::string& domain) {
  FetchResult r;
  const std::string host = "mta-sts." + domain;
  r.url = "https://" + host + (settings_.port == 443 ? "" : ":" + std::to_string(settings_.port)) + "/.well-known/mta-sts.txt";
  const auto started = Clock::now();
  const auto deadline = started + settings_.timeout;
  const auto fail = [&r](std::string detail, Reason why = Reason::sts_policy_fetch_failed) {
    r.ok = false;
    r.failure = why;
    r.detail = std::move(detail);
    return r;
  };

  // The policy host's address, through our resolver (first A, else AAAA).
  std::optional<asio::ip::address> address;
  std::string dns_detail;
  for (const int type : {dns::kTypeA, dns::kTypeAAAA}) {
    const auto answer = co_await resolver_.query(host, type);
    if (answer.status == dns::Status::ok) {
      for (const auto& rdata : answer.rdata) {
        const auto text = type == dns::kTypeA ? dns::parse_a(rdata) : dns::parse_aaaa(rdata);
        if (text) {
          address = asio::ip::make_address(*text);
          break;
        }
      }
      if (address) break;
    }
    dns_detail = host + (type == dns::kTypeA ? " A: " : " AAAA: ") + std::string(dns::status_name(answer.status));
    if (answer.status != dns::Status::nodata && answer.status != dns::Status::nxdomain) break;
  }
  if (!address) co_return fail("policy host " + dns_detail);
  r.address = address->to_string();
  if (!settings_.allow_private_targets && !is_public_address(*address))
    co_return fail("policy host " + host + " resolves to " + r.address +
                   ", not a public address: refused (probe.allow_private_targets)");
  if (Clock::now() >= deadline) co_return fail("no answer within " + seconds_text(settings_.timeout) + " (DNS)");

  asio::ssl::stream<tcp::socket> stream(io_, tls_->ctx);
  auto watchdog = Watchdog::create(stream.next_layer(), deadline);
  const auto timed_out = [&](const char* step) {
    return "no complete answer within " + seconds_text(settings_.timeout) + " (" + step + ")";
  };
  watchdog->arm(settings_.timeout);
  boost::system::error_code ec;
  const tcp::endpoint endpoint(*address, static_cast<unsigned short>(settings_.port));
  co_await stream.next_layer().async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(watchdog->fired() ? timed_out("connect") : "connect to " + r.address + ": " + ec.message());

  SSL* ssl = stream.native_handle();
  SSL_set_tlsext_host_name(ssl, host.c_str());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(ssl, host.c_str());
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (watchdog->fired()) co_return fail(timed_out("TLS handshake"));
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK)
      co_return fail("certificate of " + host + ": " + X509_verify_cert_error_string(verify), Reason::sts_webpki_invalid);
    std::string why = ec.message();
    if (ec.category() == asio::error::get_ssl_category())
      if (const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) why = text;
    co_return fail("TLS handshake with " + host + ": " + why);
  }

  http::request<http::empty_body> request{http::verb::get, "/.well-known/mta-sts.txt", 11};
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "mxtls");
  request.set(http::field::accept, "text/plain");
  request.set(http::field::connection, "close");
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(watchdog->fired() ? timed_out("request") : "sending the request: " + ec.message());

  boost::beast::flat_buffer buffer(kMaxPolicySize + 32 * 1024);
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(kMaxPolicySize);
  co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (watchdog->fired()) co_return fail(timed_out("response header"));
    if (ec == http::error::header_limit) co_return fail("response header over 16 KiB");
    if (ec == http::error::body_limit)  // a Content-Length over it is refused with the header
      co_return fail("policy over the limit of " + std::to_string(kMaxPolicySize) + " bytes (Content-Length)");
    co_return fail("reading the response: " + ec.message());
  }
  const auto& head = parser.get();
  const unsigned status = head.result_int();
  if (status >= 300 && status < 400) {
    const auto location = head[http::field::location];
    co_return fail("HTTP " + std::to_string(status) + " redirect" +
                   (location.empty() ? std::string() : " to " + sanitize(std::string_view(location.data(), location.size()), 120)) +
                   ", not followed (RFC 8461 3.3)");
  }
  if (status != 200) co_return fail("HTTP " + std::to_string(status) + " from " + r.url);
  const auto type = head[http::field::content_type];
  if (!is_text_plain(std::string_view(type.data(), type.size())))
    co_return fail("Content-Type \"" + sanitize(std::string_view(type.data(), type.size()), 60) + "\", not text/plain");
  if (const auto length = parser.content_length(); length && *length > kMaxPolicySize)
    co_return fail("policy of " + std::to_string(*length) + " bytes (Content-Length), over the limit of " +
                   std::to_string(kMaxPolicySize));
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec && !(parser.is_done() && (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof))) {
    if (watchdog->fired()) co_return fail(timed_out("policy body"));
    if (ec == http::error::body_limit) co_return fail("policy over the limit of " + std::to_string(kMaxPolicySize) + " bytes");
    co_return fail("reading the policy: " + ec.message());
  }
  watchdog->disarm();
  stream.next_layer().close(ec);
  r.ok = true;
  r.body = std::move(parser.get().body());
  co_return r;
}

}  // namespace mxtls::sts
