// MTA-STS policy discovery with a cache (RFC 8461 3.3, 5): the TXT record
// through mxtls's resolver, the policy fetched when the cache has none for
// the record's id (a changed id is a new policy), an unexpired cached
// policy kept when there is no record or the fetch fails. Shared by the
// prober (every probe looks the record up again) and the tlspolicy
// socketmap (answers from copies of the cache; has what it lacks looked up).
//
// The cache lives in memory, not in [store]: VerdictStore is a table of
// per-destination TLS verdicts (one row shape, the same for SQLite and
// Redis, with its history, carry-over and reopen contract); a policy is a
// different record (id, the policy's lines, fetch and expiry times) that
// would need a new table and key space in both backends and their test
// suite. After a restart policies are fetched again at the first probe or
// lookup, as postfix-mta-sts-resolver does with its default (internal)
// cache. Bounded: at most kMaxCachedDomains domains.
//
// Not thread-safe: one instance per thread, on that thread's io_context and
// DNS resolver. mxtls-policyd has one, on the probe thread, for the prober
// and the tlspolicy socketmap, which keeps copies of the entries on the
// answering thread and asks the probe thread for the rest
// (policy/engine/sts_policies.h): no fetch runs where answers are given.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "dns/resolver.h"
#include "sts/fetch.h"
#include "sts/lookup.h"
#include "sts/policy.h"

namespace mxtls::sts {

inline constexpr std::size_t kMaxCachedDomains = 100000;

struct CachedPolicy {
  std::string id;
  std::optional<Policy> policy;  // nullopt: the last lookup found none (negative entry)
  int64_t fetched_at = 0;
  int64_t expires_at = 0;        // policy: fetched_at + max_age
  int64_t checked_at = 0;        // the last TXT lookup for this domain
};

// The cache alone (pure, single-threaded): tests and the benchmark fill it.
class PolicyCache {
 public:
  const CachedPolicy* find(const std::string& domain) const;
  // The policy in force at `now`, if any.
  const CachedPolicy* in_force(const std::string& domain, int64_t now) const;
  void put(const std::string& domain, CachedPolicy entry, int64_t now);
  void forget(const std::string& domain) { entries_.erase(domain); }
  std::size_t size() const { return entries_.size(); }

 private:
  void make_room(int64_t now);
  std::unordered_map<std::string, CachedPolicy> entries_;
};

struct ResolverSettings {
  FetchSettings fetch;
  int64_t recheck_seconds = 300;  // socketmap: how old a cache entry may be before its TXT is looked up again (policy/engine/sts_policies.h)
};

class StsResolver {
 public:
  // Throws std::runtime_error when the fetch's trust anchors cannot be loaded.
  StsResolver(asio::io_context& io, dns::Resolver& resolver, const ResolverSettings& settings);

  // A full lookup (TXT, cache, fetch), updating the cache.
  asio::awaitable<Lookup> lookup(const std::string& domain);

  PolicyCache& cache() { return cache_; }
  const ResolverSettings& settings() const { return settings_; }

 private:
  dns::Resolver& resolver_;
  ResolverSettings settings_;
  PolicyFetcher fetcher_;
  PolicyCache cache_;
};

}  // namespace mxtls::sts
