#include "engine/decision.h"


#include "address/domain.h"
#include "util/split.h"

namespace mxtls {
namespace {

Action parse_action(const std::string& value, const std::string& key) {
  if (auto a = action_from_name(value)) return *a;
  throw ConfigError("policy." + key + ": unknown action '" + value +
                    "' (expected dunno, warn, prepend, defer, reroute or hold)");
}

// "a:b c:d" -> pairs, naming the key on a malformed item.
template <typename F>
void for_each_pair(const std::string& list, const std::string& key, F&& each) {
  for (const auto& item : split_list(list)) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      throw ConfigError("policy." + key + ": expected name:action, got '" + item + "'");
    each(item.substr(0, colon), parse_action(item.substr(colon + 1), key));
  }
}

Action configured_action(const CachedVerdict& v, std::string_view domain, const PolicySettings& s) {
  if (const auto it = s.by_domain.find(domain); it != s.by_domain.end()) return it->second;
  if (v.severity == Severity::ok || v.severity == Severity::unreachable) return Action::dunno;
  if (const auto it = s.by_reason.find(v.reason); it != s.by_reason.end()) return it->second;
  switch (v.outcome) {
    case Outcome::tls: return s.on_warning;
    case Outcome::plaintext: return s.on_plaintext;
    case Outcome::plaintext_after_delay: return s.on_plaintext_after_delay;
    case Outcome::deferred: return s.on_deferred;
    case Outcome::bounced: return Action::dunno;
  }
  return Action::dunno;
}

}  // namespace

PolicySettings build_policy_settings(const PolicyConfig& c) {
  PolicySettings s;
  s.on_warning = parse_action(c.on_warning, "on_warning");
  s.on_plaintext = parse_action(c.on_plaintext, "on_plaintext");
  s.on_plaintext_after_delay = parse_action(c.on_plaintext_after_delay, "on_plaintext_after_delay");
  s.on_deferred = parse_action(c.on_deferred, "on_deferred");
  for_each_pair(c.reason_actions, "reason_actions", [&](const std::string& code, Action a) {
    const auto r = reason_from_code(code);
    if (!r) throw ConfigError("policy.reason_actions: unknown reason code '" + code + "'");
    s.by_reason[*r] = a;
  });
  for_each_pair(c.domain_actions, "domain_actions", [&](const std::string& name, Action a) {
    const std::string domain = mail_domain(name);
    if (domain.empty()) throw ConfigError("policy.domain_actions: '" + name + "' is not a domain name");
    s.by_domain[domain] = a;
  });
  s.reroute = c.reroute;
  s.defer_status = c.defer_status;
  s.header = c.header;
  s.monitor = c.monitor;
  bool reroutes = s.on_warning == Action::reroute || s.on_plaintext == Action::reroute ||
                  s.on_plaintext_after_delay == Action::reroute || s.on_deferred == Action::reroute;
  for (const auto& [_, a] : s.by_reason) reroutes = reroutes || a == Action::reroute;
  for (const auto& [_, a] : s.by_domain) reroutes = reroutes || a == Action::reroute;
  if (reroutes && (s.reroute.empty() || s.reroute.find(':') == std::string::npos))
    throw ConfigError("policy.reroute: an action is 'reroute' but reroute is not a transport:nexthop (e.g. relay:[relay.example]:25)");
  if (s.defer_status.size() != 5 || s.defer_status[0] != '4' || s.defer_status[1] != '.')
    throw ConfigError("policy.defer_status: expected a 4.X.Y enhanced status code, got '" + s.defer_status + "'");
  if (s.header.empty() || s.header.find_first_of(": \t") != std::string::npos)
    throw ConfigError("policy.header: '" + s.header + "' is not a header field name");
  return s;
}

Decision decide(const CachedVerdict* v, std::string_view domain, const PolicySettings& s) {
  Decision d;
  if (!v) {
    d.reply = "DUNNO";
    return d;
  }
  d.action = configured_action(*v, domain, s);
  const std::string_view code = reason_code(v->reason);
  // Built only for the actions that show it: most answers are DUNNO.
  const auto summary = [&] {
    return std::string(domain) + "=" + std::string(severity_name(v->severity)) + "(" + std::string(code) + ")";
  };
  switch (d.action) {
    case Action::dunno: d.reply = "DUNNO"; break;
    case Action::warn: d.reply = "WARN mxtls: TLS to " + summary(); break;
    case Action::prepend: d.reply = "PREPEND " + s.header + ": " + summary(); break;
    case Action::defer:
      d.defer_text = "TLS to " + std::string(domain) + " would fail: " + std::string(code) + " (" +
                     std::string(outcome_name(v->outcome)) + ")";
      d.reply = "DEFER_IF_PERMIT " + s.defer_status + " " + d.defer_text;
      break;
    case Action::reroute: d.reply = "FILTER " + s.reroute; break;
    case Action::hold: d.reply = "HOLD mxtls: TLS to " + summary(); break;
  }
  if (s.monitor) d.reply = "DUNNO";
  return d;
}

}  // namespace mxtls
