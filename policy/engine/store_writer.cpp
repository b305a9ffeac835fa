#include "engine/store_writer.h"

#include <chrono>

#include "log/logger.h"

namespace mxtls {

StoreWriter::StoreWriter(VerdictStore* store) : store_(store) {
  if (store_) thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StoreWriter::save(StoredVerdict v, bool cacheable) {
  if (!store_) return;
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(v), cacheable);
  }
  wake_.notify_one();
}

void StoreWriter::run() {
  auto last_error_log = std::chrono::steady_clock::time_point{};
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    auto [verdict, cacheable] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      if (cacheable) store_->put(verdict);
      store_->record_probe(verdict);
    } catch (const StoreError& e) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_error_log > std::chrono::minutes(1)) {
        log::error(std::string("store: ") + e.what() + "; verdicts stay in memory only");
        last_error_log = now;
      }
    }
    lock.lock();
  }
}

}  // namespace mxtls
