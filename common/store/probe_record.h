// One judged probe as the store keeps it, the same for mxtls-policyd and
// `mxtls probe --store`: the verdict with the probe's facts for `mxtls
// report --what-if` (probe/probe_facts.h), and its history record. A
// transport failure (connect, timeout, DNS: severity unreachable) says
// nothing lasting about TLS: it is never a verdict to cache, only a history
// record, and that record keeps the facts (when small), so the what-if can
// judge a destination whose newest probe stalled before or in the
// handshake. Other history records never keep facts.
#pragma once
#include <cstdint>
#include <ctime>

#include "config/config.h"
#include "probe/probe_result.h"
#include "store/store.h"
#include "tls/client_profile.h"
#include "verdict/verdict.h"

namespace mxtls {

// A transport failure's facts are kept in its history record up to this size.
inline constexpr std::size_t kMaxHistoryFactsBytes = 4 * 1024;

// The verdict of `probe` judged under `profile`, with the probe's facts;
// expires_at is left to the recorder (expiry_of: its TTLs).
StoredVerdict stored_verdict(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile,
                             std::time_t probed_at);

// Transport failures are history only.
inline bool cacheable(const StoredVerdict& v) { return v.severity != Severity::unreachable; }

// When a verdict of v's severity expires under [cache]'s TTLs (Unix seconds).
int64_t expiry_of(const StoredVerdict& v, const CacheConfig& cache);

// v as its history record: facts only for a transport failure, within kMaxHistoryFactsBytes.
StoredVerdict history_record(StoredVerdict v);

}  // namespace mxtls
