// Background probes for the daemon: at most one probe per destination at a
// time (deduplicated), a bounded queue, a bounded number of destinations in
// flight, exponential backoff for transport failures (never cached as TLS
// verdicts), and a sweep that refreshes verdicts before they expire.
// A destination that only waits for MX hosts probed for others gives up its
// slot, so one slow MX shared by many domains cannot hold every slot.
// Probes run, and are judged, on the ProbeThread (engine/probe_thread.h);
// the Scheduler lives on the answering thread with the cache it fills, and
// records what comes back: cached and handed to the store.
// When transport failures hit many unrelated destinations at once (our own
// network or resolver), they are not turned into growing backoffs, and the
// backoffs of that time are forgotten once a probe reaches a server.
// In a fleet (a Redis store) each destination is first claimed from the
// Fleet: a verdict another instance published is taken instead of probing.
#pragma once
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "engine/daemon_metrics.h"
#include "engine/fleet.h"
#include "engine/local_problem.h"
#include "engine/probe_thread.h"
#include "engine/store_writer.h"
#include "engine/verdict_cache.h"

namespace mxtls {

class Scheduler {
 public:
  // fleet: null on a single host.
  Scheduler(asio::io_context& io, ProbeThread& probes, const ClientProfile& profile, const CacheConfig& config,
            VerdictCache& cache, StoreWriter& writer, DaemonMetrics& metrics, Fleet* fleet = nullptr);

  std::size_t queued() const { return queue_.size(); }
  bool local_problem() const { return local_.suspected(); }
  std::size_t in_flight() const { return static_cast<std::size_t>(running_ + waiting_shared_); }

  enum class Request { queued, already_pending, backing_off, overloaded };
  // Asks for a probe of `domain`; never blocks.
  Request request(const std::string& domain);
  // Returns when `domain`'s pending probe finishes, or after `wait`.
  asio::awaitable<void> wait_for(const std::string& domain, std::chrono::milliseconds wait);
  // Starts the refresh sweep (every minute).
  void start();
  // A reload: TTLs, backoff, queue and parallel limits from now on.
  void reconfigure(const CacheConfig& config) { config_ = config; }

 private:
  struct Backoff {
    std::chrono::steady_clock::time_point next_try;
    std::chrono::milliseconds interval{0};
  };
  void pump();
  void claim(const std::string& domain);
  void claimed(const std::string& domain, FleetClaim claim);
  void wake(const std::string& domain);  // the domain's waiters answer now
  void launch(const std::string& domain);  // hands it to the probe thread
  void give_up_slot(const std::string& domain);
  void finished(JudgedProbe judged);
  void record(JudgedProbe& judged);
  void note_reachability(const std::string& domain, const std::string& where, Reason reason, bool transport_failure);
  void sweep();

  asio::io_context& io_;
  ProbeThread& probes_;
  const ClientProfile& profile_;
  CacheConfig config_;
  VerdictCache& cache_;
  StoreWriter& writer_;
  DaemonMetrics& metrics_;
  Fleet* fleet_;
  int claiming_ = 0;  // asked of the fleet, not answered yet
  std::unordered_set<std::string> pending_;
  std::deque<std::string> queue_;
  int running_ = 0;        // destinations holding a slot
  int waiting_shared_ = 0;  // in flight without a slot: waiting for hosts probed for others
  std::unordered_map<std::string, bool> holds_slot_;  // per destination on the probe thread
  std::unordered_map<std::string, Backoff> backoff_;
  LocalProblemDetector local_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<asio::steady_timer>>> waiters_;
  asio::steady_timer sweep_timer_;
};

}  // namespace mxtls
