#include "engine/local_problem.h"

#include <map>
#include <set>

namespace mxtls {

LocalProblemDetector::Change LocalProblemDetector::note(const std::string& where, bool transport_failure, Reason reason,
                                                        Clock::time_point now) {
  window_.push_back({now, where, transport_failure, reason});
  while (window_.size() > kWindow || (!window_.empty() && now - window_.front().at > kMaxAge)) window_.pop_front();

  if (suspected_) {
    if (transport_failure) return Change::none;
    suspected_ = false;
    window_.clear();
    return Change::ended;
  }
  if (!transport_failure || window_.size() < kMinProbes) return Change::none;
  std::size_t failed = 0;
  std::set<std::string> hosts;
  for (const auto& p : window_)
    if (p.failed) {
      ++failed;
      hosts.insert(p.where);
    }
  // Most of them (4 in 5), the latest three included, over several hosts.
  const bool latest_failed = window_.size() >= 3 && window_[window_.size() - 1].failed &&
                             window_[window_.size() - 2].failed && window_[window_.size() - 3].failed;
  if (failed * 5 < window_.size() * 4 || hosts.size() < kMinHosts || !latest_failed) return Change::none;
  suspected_ = true;
  since_ = now;
  return Change::started;
}

std::string LocalProblemDetector::summary() const {
  std::size_t failed = 0;
  std::set<std::string> hosts;
  std::map<std::string, std::size_t> reasons;
  for (const auto& p : window_)
    if (p.failed) {
      ++failed;
      hosts.insert(p.where);
      ++reasons[std::string(reason_code(p.reason))];
    }
  std::string out = std::to_string(failed) + " of the last " + std::to_string(window_.size()) + " probes (" +
                    std::to_string(hosts.size()) + " MX hosts) reached no server:";
  for (const auto& [code, n] : reasons) out += " " + code + " " + std::to_string(n);
  return out;
}

}  // namespace mxtls
