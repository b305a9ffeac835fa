#include "server/socketmap_service.h"

#include "codec/netstring.h"
#include "log/logger.h"
#include "log/sanitize.h"
#include "address/domain.h"

namespace mxtls {
namespace {

bool is_certificate_reason(Reason r) {
  switch (r) {
    case Reason::cert_expired:
    case Reason::cert_not_yet_valid:
    case Reason::cert_self_signed:
    case Reason::cert_untrusted_chain:
    case Reason::cert_host_mismatch:
    case Reason::weak_key: return true;
    default: return false;
  }
}

}  // namespace

SocketmapService::SocketmapService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings,
                                   const PolicyConfig& config, const ClientProfile& profile, DaemonMetrics& metrics)
    : cache_(cache), scheduler_(scheduler), settings_(settings), metrics_(metrics), config_(config),
      level_(level_name(profile.level)), timeouts_{config.first_request_timeout.value, config.idle_timeout.value},
      end_log_("socketmap", timeouts_) {}

void SocketmapService::reconfigure(const PolicyConfig& config) {
  config_ = config;
  timeouts_ = {config.first_request_timeout.value, config.idle_timeout.value};
  end_log_ = ConnectionEndLog("socketmap", timeouts_);
}

const CachedVerdict* SocketmapService::lookup(const std::string& key, std::string& domain) {
  // Postfix treats a socketmap like a pattern table: transport_maps asks
  // with the full recipient address only, so the domain is taken from it.
  // "[host]:port" next hops are not destinations we judge.
  if (key.starts_with("[")) return nullptr;
  domain = key.find('@') == std::string::npos ? mail_domain(key) : recipient_domain(key);
  if (domain.empty()) return nullptr;
  const CachedVerdict* v = cache_.find(domain);
  if (!v) scheduler_.request(domain);
  return v;
}

std::string SocketmapService::answer(const codec::SocketmapQuery& q) {
  using codec::SocketmapStatus;
  std::string domain;
  const bool known_map = q.map == "transport" || q.map == "tlspolicy" || q.map == "mailertable";
  if (!known_map) return codec::format_socketmap_reply(SocketmapStatus::perm, "unknown map " + sanitize(q.map, 40));
  const CachedVerdict* v = lookup(q.key, domain);
  std::string value;
  if (v && !settings_.monitor) {
    if (q.map == "transport" || q.map == "mailertable") {
      if (decide(v, domain, settings_).action == Action::reroute)
        value = q.map == "transport" ? settings_.reroute : config_.mailertable_reroute;
    } else if (v->reason == Reason::sni_dependent && config_.tlspolicy_sni_fix) {
      value = level_ + " servername=hostname";
    } else if (v->outcome == Outcome::deferred && is_certificate_reason(v->reason) && config_.tlspolicy_relax_certificates) {
      value = "encrypt";
    } else if (v->outcome == Outcome::deferred && v->reason == Reason::protocol_version &&
               config_.tlspolicy_relax_protocols && level_ == "encrypt") {
      value = "encrypt protocols=>=TLSv1";
    }
  }
  if (v) {
    log::info("socketmap: map=" + q.map + ", key=\"" + sanitize_quoted(q.key, 120) + "\", reason=" + std::string(reason_code(v->reason)) +
              ", answer=" + (value.empty() ? std::string("NOTFOUND") : value) + (settings_.monitor ? " (monitor)" : ""));
  }
  metrics_.socketmap_lookup(q.map, !value.empty());
  return value.empty() ? codec::format_socketmap_reply(SocketmapStatus::notfound, "")
                       : codec::format_socketmap_reply(SocketmapStatus::ok, value);
}

template <typename Socket>
asio::awaitable<void> SocketmapService::serve(Socket socket, ConnectionSlot slot) {
  // A netstring needs no progress kept: each call reads at most its length
  // prefix (bounded by kMaxSocketmapQuery) and one byte at its announced end.
  const auto end = co_await serve_requests(socket, std::move(slot), timeouts_,
                                           [this](std::string_view buffer) -> asio::awaitable<HandlerStep> {
    const auto parsed = codec::parse_netstring(buffer, codec::kMaxSocketmapQuery);
    if (parsed.status == codec::ParseStatus::malformed) {
      log::warning("socketmap: malformed query (" + parsed.error + "); closing the connection");
      co_return HandlerStep{HandlerStep::close, {}, 0};
    }
    if (parsed.status == codec::ParseStatus::need_more) co_return HandlerStep{};
    const auto query = codec::parse_socketmap_query(parsed.payload);
    if (!query) {
      log::warning("socketmap: query is not \"name key\": \"" + sanitize_quoted(parsed.payload, 80) + "\"");
      co_return HandlerStep{HandlerStep::reply,
                            codec::encode_netstring(codec::format_socketmap_reply(codec::SocketmapStatus::perm, "malformed query")),
                            parsed.consumed};
    }
    co_return HandlerStep{HandlerStep::reply, codec::encode_netstring(answer(*query)), parsed.consumed};
  });
  end_log_.note(end);
}

template asio::awaitable<void> SocketmapService::serve(tcp::socket, ConnectionSlot);
template asio::awaitable<void> SocketmapService::serve(asio::local::stream_protocol::socket, ConnectionSlot);

}  // namespace mxtls
