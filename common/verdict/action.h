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

}  // namespace mxtls
