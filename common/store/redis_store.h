// VerdictStore on Redis, for a fleet of MTAs sharing one view: a hash per
// verdict (expiring with the verdict), a set indexing them, and the probe
// history as a sorted set by probe time. The master is a fixed address or,
// with Sentinel, asked of the sentinels at every (re)connection, so a
// failover needs no configuration change. Synchronous hiredis with a
// deadline on every call: callers keep it off the answering thread (the
// daemon's StoreWriter). Debian 12's hiredis has no TLS: use a unix socket
// or a local tunnel.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/socket_address.h"
#include "store/store.h"

struct redisContext;
struct redisReply;

namespace mxtls {

struct RedisTarget {
  SocketAddress server;                  // used when no sentinels are given
  std::vector<std::string> sentinels;    // "host:port" each
  std::string sentinel_master;
  std::string password;                  // "" for none; never logged
  int database = 0;
  std::string prefix = "mxtls:";
  std::chrono::milliseconds timeout{2000};
};

class RedisStore final : public VerdictStore {
 public:
  // Connects at once. Throws StoreError naming the server (never the password).
  explicit RedisStore(RedisTarget target);
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

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
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
  // One command (argv form: binary-safe). Reconnects once when the
  // connection broke or the server turned replica (a failover). Throws
  // StoreError on failure or an error reply.
  Reply command(const std::vector<std::string>& args);
  void connect();
  void queue_verdict(const StoredVerdict& v);  // its commands, inside MULTI
  std::string master_address(int& port);
  std::string key(const std::string& kind, const std::string& domain = "") const;

  RedisTarget target_;
  std::string where_;  // for messages: "redis unix:/run/redis.sock", "redis master mymaster"
  redisContext* ctx_ = nullptr;
};

}  // namespace mxtls
