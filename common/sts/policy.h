// The MTA-STS policy file (RFC 8461 3.2) and MX host matching (4.1). Pure,
// strict and bounded: at most kMaxPolicySize bytes, lines ending in CRLF or
// LF, each "name: value" as the RFC's ABNF has it (a field name of letters,
// digits, "_", "-", "." with no blank before the ":"), version STSv1, mode
// enforce|testing|none, max_age of 1-10 digits up to 31557600, mx patterns
// that are host names or "*." and one. The first of a repeated field other
// than mx counts (3.2); unknown fields are ignored; blank lines are skipped
// (the ABNF has none, but policies in the wild end with one and every
// MTA-STS client reads them). Anything else makes the policy invalid.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls::sts {

inline constexpr std::size_t kMaxPolicySize = 64 * 1024;  // RFC 8461 3.3's suggestion
inline constexpr int64_t kMaxMaxAge = 31557600;           // RFC 8461 3.2

enum class Mode { enforce, testing, none };
std::string_view mode_name(Mode m);

struct Policy {
  Mode mode = Mode::none;
  int64_t max_age = 0;
  std::vector<std::string> mx;     // patterns, lower case, in policy order, no duplicates
  std::vector<std::string> lines;  // every field line as published (TLSRPT policy-string)
  friend bool operator==(const Policy&, const Policy&) = default;
};

struct PolicyParse {
  std::optional<Policy> policy;
  std::string error;  // why not
};

PolicyParse parse_policy(std::string_view text);

// RFC 8461 4.1: "mx.example.com" matches that host only; "*.example.com"
// matches a host one label below example.com (not example.com itself, not
// a.b.example.com). Case-insensitive; a trailing dot on host is ignored.
bool mx_pattern_matches(std::string_view pattern, std::string_view host);
bool policy_matches_mx(const Policy& policy, std::string_view host);

// The pattern as Postfix's "secure match=" reads it: "*.example.com" ->
// ".example.com" (what postfix-mta-sts-resolver and postfix-tlspol send).
std::string postfix_match_pattern(std::string_view pattern);

}  // namespace mxtls::sts
