#include "verdict_header.h"

namespace mxtls {
namespace {

std::string entry(const DomainVerdict& d) {
  std::string out = d.domain + "=" + d.verdict;
  if (!d.reason.empty() && d.reason != "ok") out += "(" + d.reason + ")";
  return out;
}

// Room kept for "; and 99999 more" while entries remain.
constexpr std::size_t kSummaryRoom = 20;

}  // namespace

void add_domain_verdict(std::vector<DomainVerdict>& list, DomainVerdict v) {
  for (const auto& d : list)
    if (d.domain == v.domain) return;
  list.push_back(std::move(v));
}

std::string format_verdict_header(const std::vector<DomainVerdict>& list, std::size_t name_length) {
  std::string out;
  std::size_t column = name_length + 2;  // after "Name: "
  const auto append = [&](const std::string& token) {
    if (!out.empty()) {
      if (column + 1 + token.size() > kHeaderFoldColumn) {
        out += "\n\t";
        column = 1;
      } else {
        out += ' ';
        ++column;
      }
    }
    out += token;
    column += token.size();
  };
  for (std::size_t i = 0; i < list.size(); ++i) {
    const bool last = i + 1 == list.size();
    const std::string token = entry(list[i]) + (last ? "" : ";");
    const std::size_t room = kMaxHeaderValue - (last ? 0 : kSummaryRoom);
    if (out.size() + 2 + token.size() > room) {
      append("and " + std::to_string(list.size() - i) + " more");
      break;
    }
    append(token);
  }
  return out;
}

}  // namespace mxtls
