#include "store/probe_record.h"

#include <chrono>

#include "probe/probe_facts.h"

namespace mxtls {

StoredVerdict stored_verdict(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile,
                             std::time_t probed_at) {
  StoredVerdict v;
  v.domain = probe.domain;
  v.reason = verdict.overall.reason;
  v.severity = verdict.overall.severity;
  v.outcome = verdict.overall.outcome;
  v.level = std::string(level_name(profile.level));
  v.detail = verdict.overall.detail;
  v.probed_at = probed_at;
  if (!probe.hosts.empty()) {
    const auto& mx = probe.hosts[verdict.decisive];
    v.mx = format_mx(mx);
    if (mx.compat.ok) v.tls = mx.compat.version;
  }
  v.facts = encode_probe_facts(probe, profile);
  return v;
}

int64_t expiry_of(const StoredVerdict& v, const CacheConfig& cache) {
  const auto ttl = v.severity == Severity::ok        ? cache.ttl_ok.value
                   : v.severity == Severity::warning ? cache.ttl_warning.value
                                                     : cache.ttl_incompatible.value;
  return v.probed_at + std::chrono::duration_cast<std::chrono::seconds>(ttl).count();
}

StoredVerdict history_record(StoredVerdict v) {
  if (cacheable(v) || v.facts.size() > kMaxHistoryFactsBytes) v.facts.clear();
  return v;
}

}  // namespace mxtls
