// A deadline for the step an async operation is in: when it passes, the
// watched socket (TCP or unix) is cancelled and shut down, so the pending
// read, write or handshake fails (operation_aborted) and fired() tells the
// caller it was a timeout. Shut down, not only cancelled: a composed
// operation (a TLS read) between two steps of its own has nothing pending
// to cancel and would start its next read afterwards, unwatched; on a
// shut-down socket that read ends at once. (`mxtls probe` over the bench's
// 300 destinations sat 120 s on one TLSv1.3 server that asks for a client
// certificate, in 2 runs of 3, until the server hung up.) Owned through
// shared_ptr so a late timer callback never touches a dead socket.
// Arming and disarming only note the deadline: the one timer is moved only
// when a deadline comes earlier than the one it waits for, and a timer that
// fires early (its step ended, a later one began) waits on for the current
// deadline. A server that arms and disarms twice per request pays no timer
// operation per request.
#pragma once
#include <chrono>
#include <functional>
#include <memory>

#include "util/asio.h"

namespace mxtls {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  using clock = std::chrono::steady_clock;

  template <typename Socket>
  static std::shared_ptr<Watchdog> create(Socket& socket, clock::time_point hard_deadline) {
    return std::shared_ptr<Watchdog>(new Watchdog(socket.get_executor(), hard_deadline, [&socket] {
      boost::system::error_code ignored;
      socket.cancel(ignored);
      socket.shutdown(Socket::shutdown_both, ignored);
    }));
  }
  ~Watchdog() { timer_.cancel(); }

  // Starts a step that must finish within `budget` (and before the hard deadline).
  void arm(std::chrono::milliseconds budget) {
    deadline_ = std::min(clock::now() + budget, hard_deadline_);
    armed_ = true;
    if (!waiting_ || deadline_ < timer_.expiry()) wait_until(deadline_);
  }
  void disarm() { armed_ = false; }
  bool fired() const { return fired_; }

 private:
  Watchdog(asio::any_io_executor ex, clock::time_point hard_deadline, std::function<void()> cancel)
      : timer_(ex), cancel_(std::move(cancel)), hard_deadline_(hard_deadline) {}

  // Moving the timer aborts the wait it had: `generation` tells that
  // handler it was replaced.
  void wait_until(clock::time_point at) {
    timer_.expires_at(at);
    waiting_ = true;
    timer_.async_wait([weak = weak_from_this(), generation = ++generation_](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || generation != self->generation_) return;
      self->waiting_ = false;
      if (ec || !self->armed_) return;
      if (clock::now() < self->deadline_) {
        self->wait_until(self->deadline_);
        return;
      }
      self->fired_ = true;
      self->cancel_();
    });
  }

  asio::steady_timer timer_;
  std::function<void()> cancel_;
  clock::time_point hard_deadline_;
  clock::time_point deadline_{};
  bool armed_ = false;
  bool waiting_ = false;  // the timer has a wait outstanding
  unsigned generation_ = 0;
  bool fired_ = false;
};

}  // namespace mxtls
