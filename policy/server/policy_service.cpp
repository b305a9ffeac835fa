#include "server/policy_service.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <ctime>

#include "log/logger.h"
#include "log/sanitize.h"
#include "address/domain.h"
#include "codec/engine_verdict.h"
#include "probe/target.h"

namespace mxtls {

PolicyService::PolicyService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings,
                             const PolicyConfig& config, const ClientProfile& profile, DaemonMetrics& metrics)
    : cache_(cache), scheduler_(scheduler), settings_(settings), metrics_(metrics), unknown_wait_(config.unknown_wait.value),
      timeouts_{config.first_request_timeout.value, config.idle_timeout.value}, end_log_("policy", timeouts_),
      want_(profile.effective_versions().to_string()),
      relayhost_(relayhost_key(config.relayhost)) {}

void PolicyService::reconfigure(const PolicyConfig& config) {
  unknown_wait_ = config.unknown_wait.value;
  timeouts_ = {config.first_request_timeout.value, config.idle_timeout.value};
  end_log_ = ConnectionEndLog("policy", timeouts_);
  relayhost_ = relayhost_key(config.relayhost);
}

std::string relayhost_key(const std::string& relayhost) {
  if (relayhost.empty()) return {};
  const auto parsed = parse_target(relayhost);
  if (!parsed.target) throw ConfigError("policy.relayhost: " + parsed.error);
  const auto& t = *parsed.target;
  if (!t.literal_host) return t.name;
  return "[" + t.name + "]" + (t.port ? ":" + std::to_string(t.port) : "");
}

asio::awaitable<std::string> PolicyService::answer(const codec::PolicyRequest& request) {
  const bool from_milter = request.get("request") == codec::kVerdictRequest;
  if (!from_milter && (request.get("request") != "smtpd_access_policy" || request.get("protocol_state") != "RCPT"))
    co_return "action=DUNNO\n";
  const auto recipient = request.get("recipient");
  const std::string domain = recipient_domain(recipient);
  if (domain.empty()) co_return "action=DUNNO\n";
  const auto queue_id = request.get("queue_id");

  // With a relayhost, TLS is spoken with it, whatever the recipient domain.
  const std::string& next_hop = relayhost_.empty() ? domain : relayhost_;
  const CachedVerdict* verdict = cache_.find(next_hop);
  std::string probe_note;
  if (!verdict) {
    const auto r = scheduler_.request(next_hop);
    probe_note = r == Scheduler::Request::overloaded ? "overloaded" : r == Scheduler::Request::backing_off ? "backing-off" : "queued";
    if (unknown_wait_.count() > 0 && r != Scheduler::Request::overloaded && r != Scheduler::Request::backing_off) {
      co_await scheduler_.wait_for(next_hop, unknown_wait_);
      verdict = cache_.find(next_hop);
    }
  } else if (verdict->expires_at < std::time(nullptr)) {
    scheduler_.request(next_hop);  // stale: use it, refresh it
  }

  const Decision d = decide(verdict, domain, settings_);
  metrics_.decision(d.action, verdict ? std::optional(verdict->reason) : std::nullopt);
  if (log::info_enabled()) log_decision(queue_id, recipient, domain, verdict, d, probe_note);
  if (!from_milter) co_return "action=" + d.reply + "\n";
  codec::EngineVerdict answer;
  answer.domain = domain;
  answer.action = d.action;
  answer.monitor = settings_.monitor;
  answer.policy_reply = d.reply;
  if (verdict) {
    answer.severity = verdict->severity;
    answer.reason = verdict->reason;
    answer.outcome = verdict->outcome;
  }
  if (d.action == Action::defer) {
    answer.defer_status = settings_.defer_status;
    answer.defer_text = d.defer_text;
  }
  co_return codec::encode_engine_verdict(answer);
}

// One formatting pass, its format parsed at compile time: this line is
// written for every RCPT.
void PolicyService::log_decision(std::string_view queue_id, std::string_view recipient, const std::string& domain,
                                 const CachedVerdict* verdict, const Decision& d, std::string_view probe_note) const {
  const std::string id = queue_id.empty() ? std::string("NOQUEUE") : sanitize(queue_id, 20);
  if (!verdict) {
    log::info(fmt::format(FMT_COMPILE("{}: to=<{}>, domain={}, verdict=unknown, action=dunno, probe={}"), id,
                          sanitize_address(recipient), domain, probe_note));
    return;
  }
  log::info(fmt::format(
      FMT_COMPILE("{}: to=<{}>, domain={}, mx={}, verdict={}, reason={}, tls={}, want={}, outcome={}, action={}{}, cached={}s"),
      id, sanitize_address(recipient), domain, verdict->mx, severity_name(verdict->severity), reason_code(verdict->reason),
      verdict->tls ? version_name(*verdict->tls) : "none", want_, outcome_name(verdict->outcome), action_name(d.action),
      applied_suffix(settings_.monitor ? Applied::monitor : Applied::yes), std::time(nullptr) - verdict->probed_at));
}

template <typename Socket>
asio::awaitable<void> PolicyService::serve(Socket socket, ConnectionSlot slot) {
  codec::PolicyParseProgress progress;  // of the request at the buffer's front
  const auto end = co_await serve_requests(socket, std::move(slot), timeouts_,
                                           [this, &progress](std::string_view buffer) -> asio::awaitable<HandlerStep> {
    const auto parsed = codec::parse_policy_request(buffer, progress);
    if (parsed.status == codec::ParseStatus::malformed) {
      log::warning("policy: malformed request (" + parsed.error + ") after " + std::to_string(buffer.size()) +
                   " bytes: \"" + sanitize_quoted(buffer, 80) + "\"; closing the connection");
      co_return HandlerStep{HandlerStep::close, {}, 0};
    }
    if (parsed.status == codec::ParseStatus::need_more) co_return HandlerStep{};
    // Named first: GCC 12 mishandles temporaries around co_await.
    std::string reply = co_await answer(parsed.request);
    reply += "\n";
    co_return HandlerStep{HandlerStep::reply, std::move(reply), parsed.consumed};
  });
  end_log_.note(end);
}

template asio::awaitable<void> PolicyService::serve(tcp::socket, ConnectionSlot);
template asio::awaitable<void> PolicyService::serve(asio::local::stream_protocol::socket, ConnectionSlot);

}  // namespace mxtls
