// Writes finished probes to the store on a thread of its own, so a slow
// disk never stalls the policy hot path, and deletes probe history older
// than the configured age once an hour. What it cannot write (the store is
// full, read-only, deleted, corrupt) it holds in memory and writes as soon
// as it can: one log line when the store fails, one when it writes again.
// A store file deleted or replaced under it is made anew with everything the
// old file held; a corrupt one is set aside and refilled from memory.
// Verdicts and history records held after a failed write lose their probe
// facts (mxtls report --what-if then says "no facts stored" until the next
// probe).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "store/store.h"

namespace mxtls {

class StoreWriter {
 public:
  // Called on the writer's thread when the store had to be started anew
  // (its file was corrupt): answer with restore() and the verdicts the
  // daemon holds in memory.
  using Renewed = std::function<void()>;

  // Opens (creates) the store of `config` at once; backend none: nothing
  // is written. history: how long probe records are kept.
  StoreWriter(const StoreConfig& config, std::chrono::seconds history, Renewed renewed = {});
  ~StoreWriter();  // writes what is held, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues a verdict (cacheable: also replaces the domain's stored verdict)
  // and its probe history record.
  void save(StoredVerdict v, bool cacheable);
  // Queues verdicts to store again, unless a newer one of the domain is queued.
  void restore(std::vector<StoredVerdict> verdicts);

  // For the metrics, from any thread: whether the last write went through,
  // and how many writes failed since start (each retry counts).
  bool up() const { return up_; }
  std::uint64_t failures() const { return failures_; }

  static constexpr auto kRetryInterval = std::chrono::seconds(5);  // and how often the store's file is checked
  static constexpr std::size_t kMaxHeldProbes = 100'000;           // beyond: the oldest records are dropped

 private:
  struct Held {
    std::unordered_map<std::string, StoredVerdict> verdicts;  // latest per domain
    std::deque<StoredVerdict> probes;
    bool empty() const { return verdicts.empty() && probes.empty(); }
  };
  void run();
  void attempt(const Held& batch, bool prune);
  void open();
  void carry_over();
  void renew(const std::string& why);
  void give_back(Held batch);  // with mutex_ held
  void trim();                 // with mutex_ held
  void failed(const std::string& why);

  StoreConfig config_;
  std::chrono::seconds history_;
  Renewed renewed_;
  // The writer thread's own.
  std::unique_ptr<VerdictStore> store_;
  bool failing_ = false;
  std::atomic<bool> up_{true};
  std::atomic<std::uint64_t> failures_{0};
  // Shared with the callers.
  std::mutex mutex_;
  std::condition_variable wake_;
  Held held_;
  std::size_t dropped_probes_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mxtls
