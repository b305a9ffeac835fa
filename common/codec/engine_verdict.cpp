#include "codec/engine_verdict.h"

#include "codec/policy_request.h"

namespace mxtls::codec {
namespace {

std::string single_line(std::string_view value) {
  std::string out(value);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

void add(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append("=").append(single_line(value)).append("\n");
}

std::string_view bounded(std::string_view value) { return value.substr(0, kMaxQuestionValue); }

std::string bounded_address(std::string_view address) {
  if (address.size() <= kMaxQuestionValue) return std::string(address);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || address.size() - at > kMaxQuestionValue / 2) return std::string(bounded(address));
  const std::string_view domain = address.substr(at);  // '@' included
  return std::string(address.substr(0, kMaxQuestionValue - domain.size())) + std::string(domain);
}

}  // namespace

std::string encode_verdict_question(const VerdictQuestion& q) {
  std::string out;
  add(out, "request", kVerdictRequest);
  add(out, "protocol_state", "RCPT");
  add(out, "recipient", bounded_address(q.recipient));
  add(out, "sender", bounded_address(q.sender));
  add(out, "queue_id", bounded(q.queue_id));
  add(out, "client_address", bounded(q.client_address));
  out += "\n";
  return out;
}

std::string encode_engine_verdict(const EngineVerdict& v) {
  std::string out;
  add(out, "action", v.policy_reply);
  if (v.domain.empty()) return out;
  add(out, "mxtls_domain", v.domain);
  add(out, "mxtls_action", action_name(v.action));
  if (v.monitor) add(out, "mxtls_monitor", "yes");
  add(out, "mxtls_verdict", v.severity ? severity_name(*v.severity) : "unknown");
  if (v.reason) add(out, "mxtls_reason", reason_code(*v.reason));
  if (v.outcome) add(out, "mxtls_outcome", outcome_name(*v.outcome));
  if (v.action == Action::defer) {
    add(out, "mxtls_defer_status", v.defer_status);
    add(out, "mxtls_defer_text", v.defer_text);
  }
  return out;
}

std::optional<EngineVerdict> decode_engine_verdict(std::string_view reply, std::string& error) {
  const auto parsed = parse_policy_request(reply);
  if (parsed.status != ParseStatus::complete) {
    error = parsed.status == ParseStatus::malformed ? parsed.error : "incomplete reply";
    return std::nullopt;
  }
  const auto& r = parsed.request;
  const auto fail = [&](std::string why) -> std::optional<EngineVerdict> {
    error = std::move(why);
    return std::nullopt;
  };
  EngineVerdict v;
  v.policy_reply = std::string(r.get("action"));
  if (v.policy_reply.empty()) return fail("reply without action");
  v.domain = std::string(r.get("mxtls_domain"));
  if (v.domain.empty()) return v;
  const auto action = action_from_name(r.get("mxtls_action"));
  if (!action) return fail("unknown mxtls_action");
  v.action = *action;
  v.monitor = r.get("mxtls_monitor") == "yes";
  if (const auto severity = r.get("mxtls_verdict"); severity != "unknown") {
    v.severity = severity_from_name(severity);
    if (!v.severity) return fail("unknown mxtls_verdict");
  }
  if (const auto reason = r.get("mxtls_reason"); !reason.empty()) {
    v.reason = reason_from_code(reason);
    if (!v.reason) return fail("unknown mxtls_reason");
  }
  if (const auto outcome = r.get("mxtls_outcome"); !outcome.empty()) {
    v.outcome = outcome_from_name(outcome);
    if (!v.outcome) return fail("unknown mxtls_outcome");
  }
  if (v.action == Action::defer) {
    v.defer_status = std::string(r.get("mxtls_defer_status"));
    v.defer_text = std::string(r.get("mxtls_defer_text"));
    if (v.defer_status.size() != 5 || v.defer_status.compare(0, 2, "4.") != 0) return fail("bad mxtls_defer_status");
    if (v.defer_text.empty()) return fail("defer without mxtls_defer_text");
  }
  return v;
}

}  // namespace mxtls::codec
