// Tells our own outage from the destinations': when transport failures
// (connect, DNS, timeouts) hit many unrelated destinations at once, the
// fault is most likely here (port 25 blocked, our resolver down), and
// backing off each destination would only delay mail once it is fixed.
// Suspected when, among the probes of the last few minutes, most failed in
// transport, across several MX hosts, the latest ones included; over at the
// first probe that reaches a server. Pure (time is passed in): the
// scheduler feeds it and acts on the changes.
#pragma once
#include <chrono>
#include <deque>
#include <string>

#include "verdict/reason.h"

namespace mxtls {

class LocalProblemDetector {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Change { none, started, ended };

  // One finished probe: `where` is the MX host (or the domain when none was
  // found); `transport_failure`: the probe reached no server.
  Change note(const std::string& where, bool transport_failure, Reason reason, Clock::time_point now);
  bool suspected() const { return suspected_; }
  // For the log line: "12 of the last 13 probes (12 MX hosts) reached no server: dns_failed 12".
  std::string summary() const;
  Clock::time_point since() const { return since_; }

  static constexpr std::size_t kWindow = 20;         // the latest probes looked at
  static constexpr std::size_t kMinProbes = 10;      // fewer says nothing
  static constexpr std::size_t kMinHosts = 5;        // failures spread over at least this many MX hosts
  static constexpr auto kMaxAge = std::chrono::minutes(5);

 private:
  struct Probe {
    Clock::time_point at;
    std::string where;
    bool failed = false;
    Reason reason = Reason::ok;
  };
  std::deque<Probe> window_;
  bool suspected_ = false;
  Clock::time_point since_{};
};

}  // namespace mxtls
