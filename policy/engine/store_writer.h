// Writes finished probes to the store on a thread of its own, so a slow
// disk never stalls the policy hot path, and deletes probe history older
// than the configured age once an hour. A failing store degrades to
// memory-only operation with one log line per minute, never a crash.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace mxtls {

class StoreWriter {
 public:
  // store null: nothing is written. history: how long probe records are kept.
  StoreWriter(VerdictStore* store, std::chrono::seconds history);
  ~StoreWriter();                              // writes what is queued, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues a verdict (cacheable: also replaces the domain's stored verdict)
  // and its probe history record.
  void save(StoredVerdict v, bool cacheable);

 private:
  void run();
  VerdictStore* store_;
  std::chrono::seconds history_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<StoredVerdict, bool>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mxtls
