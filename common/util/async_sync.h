// Coroutine synchronisation for a single-threaded io_context: a wait group
// (spawn and join N coroutines, whose exceptions come back as values) and a
// counting semaphore (bound concurrency).
// Both park waiters on a steady_timer set to "never" and cancel it to wake
// them. Not thread-safe: use them from one io_context thread only.
#pragma once
#include <deque>
#include <exception>
#include <memory>
#include <string>

#include "util/asio.h"

namespace mxtls {

class WaitGroup {
 public:
  explicit WaitGroup(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

  // Spawns `task` as a member. An exception that escapes it goes to
  // `on_error` with its message: rethrown from a completion handler it
  // would leave io_context::run() and stop every other coroutine.
  template <typename OnError>
  void spawn(asio::awaitable<void> task, OnError on_error) {
    ++pending_;
    asio::co_spawn(timer_.get_executor(), std::move(task), [this, on_error = std::move(on_error)](std::exception_ptr e) {
      if (e) on_error(exception_text(e));
      if (--pending_ == 0) timer_.cancel();
    });
  }

  asio::awaitable<void> wait() {
    while (pending_ > 0) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  static std::string exception_text(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    } catch (...) {
      return "unknown exception";
    }
  }
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
