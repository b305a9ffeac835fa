// One probe per destination across a fleet of mxtls-policyd instances that
// share a Redis store. Before probing, an instance asks Redis, on the
// fleet's own thread (answers never wait on Redis): a fresh verdict another
// instance published is taken as it is; otherwise a lease (SET NX PX)
// decides who probes, and the others wait for the holder's verdict,
// announced on the store's channel, until the lease runs out (a crashed
// holder's lease expires). While Redis cannot be reached every instance
// probes for itself, without waiting for Redis at each destination: one log
// line when that starts, one when it ends; the store writer writes what was
// learnt once Redis is back.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/redis_connection.h"
#include "store/store.h"
#include "util/asio.h"

namespace mxtls {

struct FleetClaim {
  enum class Outcome {
    probe,    // this instance holds the lease, or Redis is out of reach: probe now
    adopted,  // a fresh verdict is in Redis: `verdict`
    gave_up,  // another instance held the lease and published nothing before it ran out
  };
  Outcome outcome = Outcome::probe;
  std::optional<StoredVerdict> verdict;
};

struct FleetCounters {
  std::uint64_t leases_taken = 0;   // probed for the fleet
  std::uint64_t adopted = 0;        // verdicts another instance probed
  std::uint64_t waited = 0;         // lease held elsewhere: waited for its verdict
  std::uint64_t unreachable = 0;    // claims answered "probe" because Redis was out of reach
};

class Fleet {
 public:
  using Done = std::function<void(FleetClaim)>;

  // level: verdicts judged under another security level are not taken.
  // lease: how long a holder may probe before another instance may.
  Fleet(asio::io_context& io, RedisTarget target, std::string level, std::chrono::milliseconds lease);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // From the io thread; `done` runs on the io thread. fresh_after: a
  // verdict in Redis counts only if it expires after this (Unix seconds).
  void claim(const std::string& domain, int64_t fresh_after, Done done);
  // From the io thread, when this instance's probe of `domain` has ended.
  // Until then the fleet thread renews the lease it took at the claim
  // (every third of a lease, at most kMaxHold in all), so instances waiting
  // for its verdict wait on while the probe waits for a slot; a holder that
  // dies stops renewing, and its leases run out.
  void released(const std::string& domain);

  FleetCounters counters() const;

  static constexpr auto kRetryInterval = std::chrono::seconds(5);  // reconnecting while Redis is out of reach
  static constexpr int kMaxHold = 10;  // leases: a lease is renewed for at most this many in all

 private:
  struct Claim {
    std::string domain;
    int64_t fresh_after = 0;
    Done done;
  };
  struct Waiting {
    int64_t fresh_after = 0;
    std::chrono::steady_clock::time_point until;
    std::vector<Done> done;
  };
  void run();
  void handle(Claim claim);
  void published(const std::string& domain);
  void renew_leases();
  void expire_waits();
  std::optional<StoredVerdict> fresh_verdict(const std::string& domain, int64_t fresh_after);
  void reach();  // connects both connections and subscribes; throws StoreError
  void lost(const std::string& why);
  void finish(Done done, FleetClaim result);
  void count(std::uint64_t FleetCounters::*field);

  asio::io_context& io_;
  std::string level_;
  std::chrono::milliseconds lease_;
  std::string holder_;  // the lease's value: host and process, for an operator reading Redis
  RedisConnection commands_;
  RedisConnection subscription_;
  int wake_[2] = {-1, -1};  // a pipe: a new claim wakes the thread from its wait on the subscription

  mutable std::mutex mutex_;
  std::deque<Claim> claims_;
  std::vector<std::string> releases_;
  bool stopping_ = false;
  FleetCounters counters_;

  // The fleet thread's own.
  bool reachable_ = false;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::unordered_map<std::string, Waiting> waiting_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> held_;  // leases taken, and when
  std::chrono::steady_clock::time_point next_renewal_{};
  std::thread thread_;
};

}  // namespace mxtls
