// What mxtls does with a recipient whose destination has a verdict: the
// action names of [policy] and of every decision log line. Shared by the
// engine that decides, the milter that applies and the report that counts;
// deciding which action a verdict gets is policy/engine/decision.h's job.
#pragma once
#include <optional>
#include <string_view>

namespace mxtls {

enum class Action { dunno, warn, prepend, defer, reroute, hold };
std::string_view action_name(Action a);  // dunno, warn, prepend, defer, reroute, hold
std::optional<Action> action_from_name(std::string_view name);

// Whether a logged action was carried out: yes; only logged (monitor mode);
// or a defer mxtls-milter accepted (defer_recipients = no). The log line's
// action field carries it as a suffix: "defer", "defer(monitor)",
// "defer(not applied)"; the daemons write it and mxtls report reads it back.
enum class Applied { yes, monitor, not_applied };
std::string_view applied_suffix(Applied a);  // "", "(monitor)", "(not applied)"
struct LoggedAction {
  Action action;
  Applied applied;
};
// An action field as logged; nullopt for an unknown action name.
std::optional<LoggedAction> parse_logged_action(std::string_view field);

}  // namespace mxtls
