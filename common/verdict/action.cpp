#include "verdict/action.h"

#include <array>

namespace mxtls {
namespace {

constexpr std::array<std::string_view, 6> kActionNames{"dunno", "warn", "prepend", "defer", "reroute", "hold"};

}  // namespace

std::string_view action_name(Action a) { return kActionNames[static_cast<std::size_t>(a)]; }

std::optional<Action> action_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kActionNames.size(); ++i)
    if (kActionNames[i] == name) return static_cast<Action>(i);
  return std::nullopt;
}

}  // namespace mxtls
