// VerdictStore on Redis, for a fleet of MTAs sharing one view: a hash per
// verdict (expiring with the verdict), a set indexing them, the probe
// history as a sorted set by probe time, and each written verdict announced
// on a channel. Synchronous, over a RedisConnection (fixed master or
// Sentinel, a deadline on every call): callers keep it off the answering
// thread (the daemon's StoreWriter). Behind Sentinel a write returns only
// once a replica has it (WAIT), so a failover loses nothing acknowledged.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/redis_connection.h"
#include "store/store.h"

namespace mxtls {

// A verdict's hash as HGETALL returns it (field, value, field, value...);
// nullopt when empty. Fields another instance garbled are read as the
// safest values, never trusted into a crash.
std::optional<StoredVerdict> verdict_from_hash(const std::vector<std::string>& pairs);

class RedisStore final : public VerdictStore {
 public:
  // Connects at once. Throws StoreError naming the server (never the password).
  explicit RedisStore(RedisTarget target);

  // Each verdict written is announced by its domain on this channel (under
  // the key prefix), once it is readable: the fleet's waiting instances
  // listen there.
  static constexpr const char* kPublishedChannel = "published";

  void put(const StoredVerdict& v) override;
  std::optional<StoredVerdict> get(const std::string& domain) override;
  void for_each(const std::function<void(const StoredVerdict&)>& visit) override;
  bool forget(const std::string& domain) override;
  std::size_t flush() override;
  void record_probe(const StoredVerdict& v) override;
  void for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) override;
  std::size_t prune_history(int64_t before) override;
  std::size_t history_size() override;
  void write(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& probes) override;

 private:
  using Reply = RedisConnection::Reply;
  Reply command(const std::vector<std::string>& args);
  void queue_verdict(const StoredVerdict& v);  // its commands, inside MULTI
  std::string key(const std::string& kind, const std::string& domain = "") const;

  RedisConnection conn_;
};

}  // namespace mxtls
