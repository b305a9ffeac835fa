// A deadline for the step an async operation is in: when it passes, the
// watched socket (TCP or unix) is cancelled, so the pending read, write or
// handshake fails with operation_aborted and fired() tells the caller it was
// a timeout. Owned through shared_ptr so a late timer callback never touches
// a dead socket.
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
    }));
  }
  ~Watchdog() { timer_.cancel(); }

  // Starts a step that must finish within `budget` (and before the hard deadline).
  void arm(std::chrono::milliseconds budget) {
    const auto at = std::min(clock::now() + budget, hard_deadline_);
    timer_.expires_at(at);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->fired_ = true;
        self->cancel_();
      }
    });
  }
  void disarm() { timer_.cancel(); }
  bool fired() const { return fired_; }

 private:
  Watchdog(asio::any_io_executor ex, clock::time_point hard_deadline, std::function<void()> cancel)
      : timer_(ex), cancel_(std::move(cancel)), hard_deadline_(hard_deadline) {}

  asio::steady_timer timer_;
  std::function<void()> cancel_;
  clock::time_point hard_deadline_;
  bool fired_ = false;
};

}  // namespace mxtls
