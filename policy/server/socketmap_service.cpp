#include "server/socketmap_service.h"

#include <ctime>

#include "codec/netstring.h"
#include "log/logger.h"
#include "log/sanitize.h"
#include "address/domain.h"

namespace mxtls {

SocketmapService::SocketmapService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings,
                                   const PolicyConfig& config, const ClientProfile& profile, DaemonMetrics& metrics,
                                   StsPolicies* sts)
    : cache_(cache), scheduler_(scheduler), settings_(settings), metrics_(metrics), config_(config),
      level_(level_name(profile.level)), timeouts_{config.first_request_timeout.value, config.idle_timeout.value},
      end_log_("socketmap", timeouts_), sts_(sts) {}

void SocketmapService::reconfigure(const PolicyConfig& config) {
  config_ = config;
  timeouts_ = {config.first_request_timeout.value, config.idle_timeout.value};
  end_log_ = ConnectionEndLog("socketmap", timeouts_);
}

std::optional<std::string> SocketmapService::dane_answer(const std::string& domain) {
  // RFC 8461 2: DANE wins. Known from the last probe at a dane level.
  const CachedVerdict* v = cache_.find(domain);
  if (!v) return std::nullopt;
  if (v->dane == DaneTlspolicy::Kind::dane_only) return "dane-only";
  if (v->dane == DaneTlspolicy::Kind::dane) return "dane";
  return std::nullopt;
}

std::string SocketmapService::sts_answer(const std::string& domain, const sts::Policy& policy, bool tlsrpt,
                                         std::string_view failure) {
  std::string match;
  for (const auto& p : policy.mx) match += (match.empty() ? "" : ":") + sts::postfix_match_pattern(p);
  std::string value = "secure match=" + match + " servername=hostname";
  if (!tlsrpt) return value;
  value += " policy_type=sts policy_domain=" + domain;
  for (const auto& p : policy.mx) value += " mx_host_pattern=" + p;
  // Postfix splits on blanks and commas and groups with braces: a line
  // with a brace cannot be quoted (postfix-tlspol skips those too). The
  // answer stays well under Postfix's socketmap_max_reply (100000).
  std::string strings;
  for (const auto& line : policy.lines) {
    if (line.find_first_of("{}") != std::string::npos) continue;
    if (value.size() + strings.size() + line.size() > 60000) break;
    strings += " { policy_string = " + line + " }";
  }
  value += strings;
  if (!failure.empty()) value += " policy_failure=" + std::string(failure);
  return value;
}

std::string SocketmapService::published_answer(const codec::SocketmapQuery& q, const std::string& domain,
                                               const sts::CachedPolicy* entry, bool waited) {
  using codec::SocketmapStatus;
  std::string value;
  std::string source;
  if (auto dane = dane_answer(domain)) {
    value = std::move(*dane);
    source = "dane";
  } else {
    const int64_t now = std::time(nullptr);
    if (entry && entry->policy && entry->expires_at > now && entry->policy->mode == sts::Mode::enforce) {
      // policy_failure: mxtls's last probe found no MX host that satisfies
      // the enforced policy (RFC 8461 4.1, 4.2).
      std::string_view failure;
      const CachedVerdict* v = cache_.find(domain);
      if (v && v->outcome == Outcome::deferred && v->expires_at > now) {
        if (v->reason == Reason::sts_mx_mismatch) failure = "validation-failure";
        else if (v->reason == Reason::sts_webpki_invalid) failure = "sts-webpki-invalid";
      }
      value = sts_answer(domain, *entry->policy, config_.tlspolicy_tlsrpt, failure);
      source = "mta-sts id " + entry->id;
    }
  }
  if (value.empty() && config_.tlspolicy_source == "both") return answer(q);
  // One info line per lookup that fetched; answers from memory (every
  // delivery asks) only at debug level.
  if (waited || log::debug_enabled()) {
    const std::string line = "socketmap: map=tlspolicy, key=" + sanitize(q.key, 120) + ", source=" +
                             (source.empty() ? "none" : source) +
                             ", answer=" + (value.empty() ? std::string("NOTFOUND") : sanitize(value, 300));
    if (waited) log::info(line);
    else log::debug(line);
  }
  return value.empty() ? codec::format_socketmap_reply(SocketmapStatus::notfound, "")
                       : codec::format_socketmap_reply(SocketmapStatus::ok, value);
}

std::optional<std::string> SocketmapService::answer_now(const codec::SocketmapQuery& q) {
  if (q.map != "tlspolicy" || config_.tlspolicy_source == "probes" || !sts_) return answer(q);
  std::string domain;
  lookup(q.key, domain);  // queues a probe for an unknown domain
  if (domain.empty()) return codec::format_socketmap_reply(codec::SocketmapStatus::notfound, "");
  const sts::CachedPolicy* entry = sts_->peek(domain);
  if (!entry) return std::nullopt;
  return published_answer(q, domain, entry, false);
}

asio::awaitable<std::string> SocketmapService::answer_async(const codec::SocketmapQuery& q) {
  if (auto now = answer_now(q)) co_return std::move(*now);
  std::string domain;
  lookup(q.key, domain);
  const sts::CachedPolicy* entry = co_await sts_->current(domain);
  co_return published_answer(q, domain, entry, true);
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
    // Named, not a temporary in the co_return expression: GCC 12 mis-destroys those.
    std::string reply;
    if (auto now = answer_now(*query)) reply = std::move(*now);
    else reply = co_await answer_async(*query);
    co_return HandlerStep{HandlerStep::reply, codec::encode_netstring(reply), parsed.consumed};
  });
  end_log_.note(end);
}

template asio::awaitable<void> SocketmapService::serve(tcp::socket, ConnectionSlot);
template asio::awaitable<void> SocketmapService::serve(asio::local::stream_protocol::socket, ConnectionSlot);

}  // namespace mxtls
