// Writes finished probes to the store on a thread of its own, so a slow
// disk never stalls the policy hot path. A failing store degrades to
// memory-only operation with one log line per minute, never a crash.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace mxtls {

class StoreWriter {
 public:
  explicit StoreWriter(VerdictStore* store);  // null: nothing is written
  ~StoreWriter();                              // writes what is queued, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues a verdict (cacheable: also replaces the domain's stored verdict)
  // and its probe history record.
  void save(StoredVerdict v, bool cacheable);

 private:
  void run();
  VerdictStore* store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<StoredVerdict, bool>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mxtls
