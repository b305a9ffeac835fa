// The annotation header the milter adds at end of message: one entry per
// recipient domain, in first-seen order, stable and parseable:
//   X-MXTLS: legacy.example=incompatible(protocol_version); good.example=ok
// folded as RFC 5322 wants (lines of at most 78 characters where an entry
// allows it, never near 998) and bounded: entries past kMaxHeaderValue are
// summarised as "and 412 more". Pure; domains are already validated names.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace mxtls {

struct DomainVerdict {
  std::string domain;
  std::string verdict;  // ok, warning, incompatible, unreachable, unknown, error
  std::string reason;   // reason code, empty for ok/unknown
};

inline constexpr std::size_t kHeaderFoldColumn = 78;   // RFC 5322 2.1.1: SHOULD
inline constexpr std::size_t kMaxHeaderValue = 2048;   // the value, folds included

// Adds `v` unless its domain is already listed.
void add_domain_verdict(std::vector<DomainVerdict>& list, DomainVerdict v);

// The header's value for a header named with `name_length` characters. A
// fold is "\n\t": libmilter's form, which the MTA writes as CRLF TAB.
std::string format_verdict_header(const std::vector<DomainVerdict>& list, std::size_t name_length);

}  // namespace mxtls
