// A deadline for the step an async operation is in: when it passes, the
// watched socket is cancelled, so the pending read/write/handshake fails
// with operation_aborted and fired() tells the caller it was a timeout.
// Owned through shared_ptr so a late timer callback never touches a dead socket.
#pragma once
#include <chrono>
#include <memory>

#include "util/asio.h"

namespace mxtls {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  using clock = std::chrono::steady_clock;

  static std::shared_ptr<Watchdog> create(tcp::socket& socket, clock::time_point hard_deadline) {
    return std::shared_ptr<Watchdog>(new Watchdog(socket, hard_deadline));
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
        boost::system::error_code ignored;
        self->socket_.cancel(ignored);
      }
    });
  }
  void disarm() { timer_.cancel(); }
  bool fired() const { return fired_; }

 private:
  Watchdog(tcp::socket& socket, clock::time_point hard_deadline)
      : timer_(socket.get_executor()), socket_(socket), hard_deadline_(hard_deadline) {}

  asio::steady_timer timer_;
  tcp::socket& socket_;
  clock::time_point hard_deadline_;
  bool fired_ = false;
};

}  // namespace mxtls
