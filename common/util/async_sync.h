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

// The count and queue live in shared state that every Permit co-owns: a
// coroutine frame destroyed at shutdown (after the semaphore's owner) still
// releases safely.
class AsyncSemaphore {
 public:
  AsyncSemaphore(asio::any_io_executor ex, int permits) : state_(std::make_shared<State>(State{ex, permits, {}})) {}

  asio::awaitable<void> acquire() {
    auto state = state_;
    if (state->permits > 0 && state->waiters.empty()) {
      --state->permits;
      co_return;
    }
    auto timer = std::make_shared<asio::steady_timer>(state->executor, asio::steady_timer::time_point::max());
    state->waiters.push_back(timer);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // The releaser handed its permit straight to us.
  }

 private:
  friend class Permit;
  struct State {
    asio::any_io_executor executor;
    int permits;
    std::deque<std::shared_ptr<asio::steady_timer>> waiters;
    void release() {
      if (waiters.empty()) {
        ++permits;
        return;
      }
      auto next = waiters.front();
      waiters.pop_front();
      next->cancel();
    }
  };
  std::shared_ptr<State> state_;
};

// Holds one permit for a scope (construct it after acquire() returned).
class Permit {
 public:
  explicit Permit(AsyncSemaphore& s) : state_(s.state_) {}
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { state_->release(); }

 private:
  std::shared_ptr<AsyncSemaphore::State> state_;
};

}  // namespace mxtls
