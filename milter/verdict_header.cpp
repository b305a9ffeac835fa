#include "verdict_header.h"

namespace mxtls {

void add_domain_verdict(std::vector<DomainVerdict>& list, DomainVerdict v) {
  for (const auto& d : list)
    if (d.domain == v.domain) return;
  list.push_back(std::move(v));
}

std::string format_verdict_header(const std::vector<DomainVerdict>& list) {
  std::string out;
  for (const auto& d : list) {
    if (!out.empty()) out += "; ";
    out += d.domain + "=" + d.verdict;
    if (!d.reason.empty() && d.reason != "ok") out += "(" + d.reason + ")";
  }
  return out;
}

}  // namespace mxtls
