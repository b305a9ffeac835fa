// One synchronous connection to the Redis master: a fixed address or, with
// Sentinel, the master the sentinels name at every (re)connection, so that a
// failover needs no configuration change; AUTH and SELECT on connect; a
// deadline on every call; one reconnection when the connection broke or the
// server turned replica. The Redis store and the fleet's leases each hold
// their own. Never used from the answering thread. Debian 12's hiredis has
// no TLS: a unix socket or a local tunnel.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/socket_address.h"

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

class RedisConnection {
 public:
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

  explicit RedisConnection(RedisTarget target);  // connects on first use
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects now. Throws StoreError naming the server (never the password).
  void connect();
  // One command in argv form (binary-safe). Throws StoreError on failure or
  // an error reply.
  Reply command(const std::vector<std::string>& args);
  // A subscribed connection: waits up to `wait` for the next pushed
  // message, or until `wake_fd` (if not -1) is readable; null when none
  // came. Throws StoreError when the connection broke.
  Reply next_message(std::chrono::milliseconds wait, int wake_fd = -1);
  void disconnect();

  const RedisTarget& target() const { return target_; }
  // For messages: "redis unix:/run/redis.sock", "redis master mymaster".
  const std::string& where() const { return where_; }
  std::string key(std::string_view kind, std::string_view domain = {}) const;

 private:
  std::string master_address(int& port);

  RedisTarget target_;
  std::string where_;
  redisContext* ctx_ = nullptr;
};

std::string_view reply_text(const redisReply* r);

}  // namespace mxtls
