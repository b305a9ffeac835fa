#include "config/duration.h"

#include <charconv>

namespace mxtls {

std::optional<Duration> parse_duration(std::string_view text) {
  long long number = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr == text.data() || number < 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  long long ms_per_unit = 0;
  if (unit.empty() || unit == "s") ms_per_unit = 1000;
  else if (unit == "ms") ms_per_unit = 1;
  else if (unit == "m") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else if (unit == "d") ms_per_unit = 86'400'000;
  else return std::nullopt;
  constexpr long long kMaxMs = 400LL * 86'400'000;
  if (number > kMaxMs / ms_per_unit) return std::nullopt;
  return Duration{std::chrono::milliseconds(number * ms_per_unit)};
}

std::string format_duration(Duration d) {
  const auto ms = d.value.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

}  // namespace mxtls
