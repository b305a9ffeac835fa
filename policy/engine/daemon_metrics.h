// What mxtls-policyd counts for Prometheus: decisions by action and reason,
// socketmap lookups, probes by severity and reason with their duration,
// and, sampled every few seconds on the io thread, the verdicts cached by
// severity, the probe queue, the store's state and the fleet's claims.
// Label values come from closed sets (actions, reason codes, severities,
// map names), so the series stay bounded.
#pragma once
#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "engine/fleet.h"
#include "verdict/action.h"
#include "verdict/reason.h"
#include "verdict/verdict.h"

namespace mxtls {

struct DaemonSample {
  std::array<std::size_t, 4> cached{};  // by Severity
  std::size_t queued = 0;
  std::size_t in_flight = 0;
  bool store_up = true;
  bool local_problem = false;
  std::uint64_t store_failures = 0;  // since start
  std::optional<FleetCounters> fleet;
};

class DaemonMetrics {
 public:
  explicit DaemonMetrics(prometheus::Registry& registry);

  // reason: nullopt for a destination without a verdict yet ("unknown").
  void decision(Action action, std::optional<Reason> reason);
  void socketmap_lookup(std::string_view map, bool found);
  void probe(Severity severity, Reason reason, std::chrono::steady_clock::duration took);
  void sample(const DaemonSample& s);
  // The MTA's log (engine/feedback): a delivery read, and a delivery our
  // cached verdict did not predict (reprobed: a probe was asked for).
  void mta_delivery();
  void prediction_disagreed(bool reprobed);

 private:
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& lookups_;
  prometheus::Family<prometheus::Counter>& probes_;
  prometheus::Family<prometheus::Histogram>& probe_seconds_;
  prometheus::Family<prometheus::Gauge>& cached_;
  prometheus::Gauge& queued_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& store_up_;
  prometheus::Gauge& local_problem_;
  prometheus::Counter& store_errors_;
  prometheus::Family<prometheus::Counter>& fleet_;
  // The hot path's series, made on first use: (action, reason or unknown).
  std::vector<prometheus::Counter*> decision_series_;
  prometheus::Histogram* probe_histogram_;
  // The socketmap maps served, and their series: [map * 2 + found].
  static constexpr std::array<std::string_view, 3> kMaps{"transport", "tlspolicy", "mailertable"};
  std::array<prometheus::Counter*, kMaps.size() * 2> lookup_series_{};
  std::uint64_t store_failures_seen_ = 0;
  FleetCounters fleet_seen_{};
  prometheus::Counter& mta_deliveries_;
  prometheus::Family<prometheus::Counter>& disagreements_;
};

}  // namespace mxtls
