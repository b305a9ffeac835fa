#include "verdict/action.h"

#include <array>

namespace mxtls {
namespace {

constexpr std::array<std::string_view, 6> kActionNames{"dunno", "warn", "prepend", "defer", "reroute", "hold"};
constexpr std::array<std::string_view, 3> kAppliedSuffixes{"", "(monitor)", "(not applied)"};

}  // namespace

std::string_view action_name(Action a) { return kActionNames[static_cast<std::size_t>(a)]; }

std::optional<Action> action_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kActionNames.size(); ++i)
    if (kActionNames[i] == name) return static_cast<Action>(i);
  return std::nullopt;
}

std::string_view applied_suffix(Applied a) { return kAppliedSuffixes[static_cast<std::size_t>(a)]; }

std::optional<LoggedAction> parse_logged_action(std::string_view field) {
  Applied applied = Applied::yes;
  for (std::size_t i = 1; i < kAppliedSuffixes.size(); ++i)
    if (field.ends_with(kAppliedSuffixes[i])) {
      field.remove_suffix(kAppliedSuffixes[i].size());
      applied = static_cast<Applied>(i);
      break;
    }
  const auto action = action_from_name(field);
  if (!action) return std::nullopt;
  return LoggedAction{*action, applied};
}

}  // namespace mxtls
