// Coroutine synchronisation for a single-threaded io_context: a wait group
// (join N spawned coroutines) and a counting semaphore (bound concurrency).
// Both park waiters on a steady_timer set to "never" and cancel it to wake
// them. Not thread-safe: use them from one io_context thread only.
#pragma once
#include <deque>
#include <memory>

#include "util/asio.h"

namespace mxtls {

class WaitGroup {
 public:
  explicit WaitGroup(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  void add(int n = 1) { pending_ += n; }
  void done() {
    if (--pending_ == 0) timer_.cancel();
  }
  asio::awaitable<void> wait() {
    while (pending_ > 0) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  asio::steady_timer timer_;
  int pending_ = 0;
};

class AsyncSemaphore {
 public:
  AsyncSemaphore(asio::any_io_executor ex, int permits) : executor_(ex), permits_(permits) {}

  asio::awaitable<void> acquire() {
    if (permits_ > 0 && waiters_.empty()) {
      --permits_;
      co_return;
    }
    auto timer = std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
    waiters_.push_back(timer);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // The releaser handed its permit straight to us.
  }

  void release() {
    if (waiters_.empty()) {
      ++permits_;
      return;
    }
    auto next = waiters_.front();
    waiters_.pop_front();
    next->cancel();
  }

 private:
  asio::any_io_executor executor_;
  int permits_;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

// Holds one permit for a scope.
class Permit {
 public:
  explicit Permit(AsyncSemaphore& s) : sem_(&s) {}
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { sem_->release(); }

 private:
  AsyncSemaphore* sem_;
};

}  // namespace mxtls
