// libFuzzer target: the MTA-STS policy parser on arbitrary bytes, and MX
// pattern matching of every pattern it accepts against a few hosts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sts/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto p = mxtls::sts::parse_policy(input);
  if (!p.policy) {
    if (p.error.empty()) std::abort();
    return 0;
  }
  if (input.size() > mxtls::sts::kMaxPolicySize) std::abort();
  if (p.policy->max_age < 0 || p.policy->max_age > mxtls::sts::kMaxMaxAge) std::abort();
  if (p.policy->mode != mxtls::sts::Mode::none && p.policy->mx.empty()) std::abort();
  for (const auto& pattern : p.policy->mx) {
    if (pattern.empty()) std::abort();
    // A pattern always matches the host it names (a wildcard: one label under it).
    const std::string host = pattern.starts_with("*.") ? "x" + pattern.substr(1) : pattern;
    if (!mxtls::sts::mx_pattern_matches(pattern, host)) std::abort();
    (void)mxtls::sts::postfix_match_pattern(pattern);
  }
  return 0;
}
