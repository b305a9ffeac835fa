#include "engine/store_writer.h"

#include <chrono>
#include <ctime>

#include "config/duration.h"
#include "log/logger.h"

namespace mxtls {

StoreWriter::StoreWriter(VerdictStore* store, std::chrono::seconds history) : store_(store), history_(history) {
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
  using Clock = std::chrono::steady_clock;
  auto last_error_log = Clock::time_point{};
  const auto guarded = [&](auto&& action) {
    try {
      action();
    } catch (const StoreError& e) {
      const auto now = Clock::now();
      if (now - last_error_log > std::chrono::minutes(1)) {
        log::error(std::string("store: ") + e.what() + "; verdicts stay in memory only");
        last_error_log = now;
      }
    }
  };
  auto next_prune = Clock::now();  // at start, then once an hour
  std::unique_lock lock(mutex_);
  while (true) {
    if (Clock::now() >= next_prune) {
      next_prune = Clock::now() + std::chrono::hours(1);
      lock.unlock();
      guarded([&] {
        const auto n = store_->prune_history(std::time(nullptr) - history_.count());
        if (n > 0) log::info("store: deleted " + std::to_string(n) + " probe record(s) older than " +
                             format_duration(Duration{history_}));
      });
      lock.lock();
    }
    if (queue_.empty() && stopping_) return;
    if (queue_.empty()) {
      wake_.wait_until(lock, next_prune, [this] { return stopping_ || !queue_.empty(); });
      continue;
    }
    auto [verdict, cacheable] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    guarded([&] {
      if (cacheable) store_->put(verdict);
      store_->record_probe(verdict);
    });
    lock.lock();
  }
}

}  // namespace mxtls
