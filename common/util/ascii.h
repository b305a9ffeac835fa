// ASCII character tests and case folding, whatever the locale: DNS names,
// protocol attribute names and MTA-STS patterns are ASCII by definition,
// and the locale's ctype calls showed in the policy hot path's profile.
#pragma once
#include <string>
#include <string_view>

namespace mxtls {

constexpr bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace mxtls
