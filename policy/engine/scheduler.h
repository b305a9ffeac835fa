// Background probes for the daemon: at most one probe per destination at a
// time (deduplicated), a bounded queue, a bounded number of destinations in
// flight, exponential backoff for transport failures (never cached as TLS
// verdicts), and a sweep that refreshes verdicts before they expire.
// Finished probes are classified, logged, cached and handed to the store.
#pragma once
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "engine/store_writer.h"
#include "engine/verdict_cache.h"
#include "probe/prober.h"
#include "sts/judge.h"

namespace mxtls {

class Scheduler {
 public:
  // `sts`: how MTA-STS policies are judged (null: not at all).
  Scheduler(asio::io_context& io, Prober& prober, const ClientProfile& profile, const CacheConfig& config,
            VerdictCache& cache, StoreWriter& writer, const sts::Judging* sts = nullptr);

  enum class Request { queued, already_pending, backing_off, overloaded };
  // Asks for a probe of `domain`; never blocks.
  Request request(const std::string& domain);
  // Returns when `domain`'s pending probe finishes, or after `wait`.
  asio::awaitable<void> wait_for(const std::string& domain, std::chrono::milliseconds wait);
  // Starts the refresh sweep (every minute).
  void start();

 private:
  struct Backoff {
    std::chrono::steady_clock::time_point next_try;
    std::chrono::milliseconds interval{0};
  };
  void pump();
  asio::awaitable<void> probe_one(std::string domain);
  void finish(const std::string& domain, const DestinationProbe& probe);
  void sweep();

  asio::io_context& io_;
  Prober& prober_;
  const ClientProfile& profile_;
  const sts::Judging* sts_;
  CacheConfig config_;
  VerdictCache& cache_;
  StoreWriter& writer_;
  std::unordered_set<std::string> pending_;
  std::deque<std::string> queue_;
  int running_ = 0;
  std::unordered_map<std::string, Backoff> backoff_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<asio::steady_timer>>> waiters_;
  asio::steady_timer sweep_timer_;
};

}  // namespace mxtls
