// MTA-STS policy discovery with a cache (RFC 8461 3.3, 5): the TXT record
// through mxtls's resolver, the policy fetched when the cache has none for
// the record's id (a changed id is a new policy), an unexpired cached
// policy kept when there is no record or the fetch fails. Shared by the
// prober (every probe looks the record up again) and the tlspolicy
// socketmap (answers from the cache; looks up what it does not have).
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
// DNS resolver (mxtls-policyd: the probe thread's for the prober, the
// answering thread's for the socketmap). Each keeps its own cache: a policy
// both need is fetched by each, once per max_age/id change, which costs
// less than a lock on the socketmap's path and copies of every entry read.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

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
  int64_t recheck_seconds = 300;  // socketmap: how old a cache entry may be before its TXT is looked up again
};

class StsResolver {
 public:
  // Throws std::runtime_error when the fetch's trust anchors cannot be loaded.
  StsResolver(asio::io_context& io, dns::Resolver& resolver, const ResolverSettings& settings);

  // A full lookup (TXT, cache, fetch), updating the cache.
  asio::awaitable<Lookup> lookup(const std::string& domain);

  // For the socketmap: the cache entry, looking the domain up first when
  // there is none (bounded by the fetch timeout), and again in the
  // background when the entry was checked more than recheck_seconds ago.
  asio::awaitable<const CachedPolicy*> current(const std::string& domain);
  // The same without waiting: the cache entry (refreshed in the background
  // when old), nullptr when there is none yet.
  const CachedPolicy* peek(const std::string& domain);

  PolicyCache& cache() { return cache_; }
  const ResolverSettings& settings() const { return settings_; }

 private:
  asio::awaitable<void> refresh(std::string domain);
  asio::io_context& io_;
  dns::Resolver& resolver_;
  ResolverSettings settings_;
  PolicyFetcher fetcher_;
  PolicyCache cache_;
  std::unordered_set<std::string> refreshing_;
};

}  // namespace mxtls::sts
