// Fetches an MTA-STS policy (RFC 8461 3.3): GET
// https://mta-sts.<domain>/.well-known/mta-sts.txt with Boost.Beast over
// OpenSSL. The host name is resolved through mxtls's resolver and refused on
// a non-public address exactly as probes are (probe.allow_private_targets);
// the certificate must chain to the configured trust anchors and name the
// host (SNI sent); only 200 with Content-Type text/plain is a policy (3xx is
// a failure: redirects are never followed); the body is bounded
// (kMaxPolicySize) and the whole fetch (DNS, connect, handshake, request,
// response) by one deadline, so a 10 MB answer or a server that trickles
// one byte a second ends with a reason, not a hang.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "dns/resolver.h"
#include "util/asio.h"
#include "verdict/reason.h"

namespace mxtls::sts {

struct FetchSettings {
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  bool allow_private_targets = false;
  std::string ca_file;  // empty: OpenSSL's default trust store (the system's)
  std::string ca_path;
  int port = 443;       // 443 by RFC 8461; tests may point elsewhere
};

struct FetchResult {
  bool ok = false;
  std::string body;
  std::string url;
  std::string address;  // the address connected to
  // When not ok: sts_policy_fetch_failed, or sts_webpki_invalid when the
  // policy host's certificate failed validation.
  Reason failure = Reason::sts_policy_fetch_failed;
  std::string detail;
};

class PolicyFetcher {
 public:
  // Throws std::runtime_error when the trust anchors cannot be loaded.
  PolicyFetcher(asio::io_context& io, dns::Resolver& resolver, const FetchSettings& settings);
  ~PolicyFetcher();
  PolicyFetcher(const PolicyFetcher&) = delete;
  PolicyFetcher& operator=(const PolicyFetcher&) = delete;

  asio::awaitable<FetchResult> fetch(const std::string& domain);

 private:
  struct Tls;
  asio::io_context& io_;
  dns::Resolver& resolver_;
  FetchSettings settings_;
  std::unique_ptr<Tls> tls_;
};

// Content-Type is text/plain (any case, parameters allowed).
bool is_text_plain(std::string_view content_type);

}  // namespace mxtls::sts
