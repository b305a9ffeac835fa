#include "engine/daemon_metrics.h"

#include <algorithm>

namespace mxtls {
namespace {

constexpr std::size_t kActions = static_cast<std::size_t>(Action::hold) + 1;
constexpr Severity kSeverities[] = {Severity::ok, Severity::warning, Severity::incompatible, Severity::unreachable};

// Advances a Prometheus counter to a count kept elsewhere (monotonic).
void follow(prometheus::Counter& counter, std::uint64_t now, std::uint64_t& seen) {
  if (now > seen) counter.Increment(static_cast<double>(now - seen));
  seen = now;
}

}  // namespace

DaemonMetrics::DaemonMetrics(prometheus::Registry& r)
    : decisions_(prometheus::BuildCounter().Name("mxtls_decisions_total")
                     .Help("Policy decisions by action and the verdict's reason (unknown: no verdict yet)").Register(r)),
      lookups_(prometheus::BuildCounter().Name("mxtls_socketmap_lookups_total")
                   .Help("Socketmap lookups by map and result (found: a value returned)").Register(r)),
      probes_(prometheus::BuildCounter().Name("mxtls_probes_total")
                  .Help("Finished destination probes by severity and reason").Register(r)),
      probe_seconds_(prometheus::BuildHistogram().Name("mxtls_probe_duration_seconds")
                         .Help("How long a destination probe took").Register(r)),
      cached_(prometheus::BuildGauge().Name("mxtls_verdicts_cached")
                  .Help("Verdicts held in memory, by severity").Register(r)),
      queued_(prometheus::BuildGauge().Name("mxtls_probe_queue_depth")
                  .Help("Destinations waiting for a probe slot").Register(r).Add({})),
      in_flight_(prometheus::BuildGauge().Name("mxtls_probes_in_flight")
                     .Help("Destinations being probed").Register(r).Add({})),
      store_up_(prometheus::BuildGauge().Name("mxtls_store_up")
                    .Help("1 while the store takes writes, 0 while they are held in memory").Register(r).Add({})),
      local_problem_(prometheus::BuildGauge().Name("mxtls_local_problem")
                         .Help("1 while transport failures across many destinations suggest our own network or resolver")
                         .Register(r).Add({})),
      store_errors_(prometheus::BuildCounter().Name("mxtls_store_errors_total")
                        .Help("Failed store writes (each retry counts)").Register(r).Add({})),
      fleet_(prometheus::BuildCounter().Name("mxtls_fleet_claims_total")
                 .Help("Destinations claimed from the fleet (Redis), by result").Register(r)),
      decision_series_(kActions * (all_reasons().size() + 1), nullptr),
      probe_histogram_(&probe_seconds_.Add({}, prometheus::Histogram::BucketBoundaries{
                                                    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})),
      mta_deliveries_(prometheus::BuildCounter().Name("mxtls_mta_deliveries_seen_total")
                          .Help("Delivery status lines read from the MTA's log ([feedback] mta_log)").Register(r).Add({})),
      disagreements_(prometheus::BuildCounter().Name("mxtls_prediction_disagreements_total")
                         .Help("Deliveries in the MTA's log our cached verdict did not predict, by what was done "
                               "(reprobed, rate_limited)").Register(r)) {
  for (const auto s : kSeverities) cached_.Add({{"severity", std::string(severity_name(s))}});
  for (std::size_t m = 0; m < kMaps.size(); ++m)
    for (const bool found : {false, true})
      lookup_series_[m * 2 + (found ? 1 : 0)] =
          &lookups_.Add({{"map", std::string(kMaps[m])}, {"result", found ? "found" : "notfound"}});
}

void DaemonMetrics::decision(Action action, std::optional<Reason> reason) {
  const std::size_t unknown = all_reasons().size();
  const std::size_t r = reason ? std::min(static_cast<std::size_t>(*reason), unknown) : unknown;
  auto& series = decision_series_[static_cast<std::size_t>(action) * (all_reasons().size() + 1) + r];
  if (!series)
    series = &decisions_.Add({{"action", std::string(action_name(action))},
                              {"reason", reason ? std::string(reason_code(*reason)) : "unknown"}});
  series->Increment();
}

void DaemonMetrics::socketmap_lookup(std::string_view map, bool found) {
  for (std::size_t m = 0; m < kMaps.size(); ++m)
    if (kMaps[m] == map) lookup_series_[m * 2 + (found ? 1 : 0)]->Increment();
}

void DaemonMetrics::probe(Severity severity, Reason reason, std::chrono::steady_clock::duration took) {
  probes_.Add({{"severity", std::string(severity_name(severity))}, {"reason", std::string(reason_code(reason))}})
      .Increment();
  probe_histogram_->Observe(std::chrono::duration<double>(took).count());
}

void DaemonMetrics::sample(const DaemonSample& s) {
  for (const auto sev : kSeverities)
    cached_.Add({{"severity", std::string(severity_name(sev))}}).Set(static_cast<double>(s.cached[static_cast<int>(sev)]));
  queued_.Set(static_cast<double>(s.queued));
  in_flight_.Set(static_cast<double>(s.in_flight));
  store_up_.Set(s.store_up ? 1 : 0);
  local_problem_.Set(s.local_problem ? 1 : 0);
  follow(store_errors_, s.store_failures, store_failures_seen_);
  if (s.fleet) {
    follow(fleet_.Add({{"result", "lease_taken"}}), s.fleet->leases_taken, fleet_seen_.leases_taken);
    follow(fleet_.Add({{"result", "adopted"}}), s.fleet->adopted, fleet_seen_.adopted);
    follow(fleet_.Add({{"result", "waited"}}), s.fleet->waited, fleet_seen_.waited);
    follow(fleet_.Add({{"result", "redis_unreachable"}}), s.fleet->unreachable, fleet_seen_.unreachable);
  }
}

void DaemonMetrics::mta_delivery() { mta_deliveries_.Increment(); }

void DaemonMetrics::prediction_disagreed(bool reprobed) {
  disagreements_.Add({{"result", reprobed ? "reprobed" : "rate_limited"}}).Increment();
}

}  // namespace mxtls
