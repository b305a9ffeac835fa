// Time values as operators write them in mxtls.conf and on the command line,
// Postfix-style: a number with a unit (ms, s, m, h, d); a bare number is
// seconds. Bounded to [0, 400d] (history is kept for months) so no typo
// becomes an unbounded wait.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mxtls {

struct Duration {
  std::chrono::milliseconds value{0};
  friend bool operator==(const Duration&, const Duration&) = default;
};

std::optional<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);

}  // namespace mxtls
