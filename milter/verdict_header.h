// The annotation header the milter adds at end of message: one entry per
// recipient domain, in first-seen order, stable and parseable:
//   X-MXTLS: legacy.example=incompatible(protocol_version); good.example=ok
// Pure; domains are already validated host names.
#pragma once
#include <string>
#include <vector>

namespace mxtls {

struct DomainVerdict {
  std::string domain;
  std::string verdict;  // ok, warning, incompatible, unreachable, unknown, error
  std::string reason;   // reason code, empty for ok/unknown
};

// Adds `v` unless its domain is already listed.
void add_domain_verdict(std::vector<DomainVerdict>& list, DomainVerdict v);
std::string format_verdict_header(const std::vector<DomainVerdict>& list);

}  // namespace mxtls
