// At most one log line per interval for an event that can repeat thousands
// of times a second (accept failing for lack of descriptors, connections
// closed to make room): the first occurrence is told at once, later ones
// are counted and the count goes with the next line. Time is passed in.
#pragma once
#include <chrono>
#include <cstdint>
#include <utility>

namespace mxtls::log {

class Throttle {
 public:
  using clock = std::chrono::steady_clock;
  explicit Throttle(clock::duration interval) : interval_(interval) {}

  // Counts one occurrence; when a line is due, returns how many occurred
  // since the last one (this one included), else 0.
  std::uint64_t note(clock::time_point now = clock::now()) {
    ++count_;
    if (told_ && now - last_ < interval_) return 0;
    told_ = true;
    last_ = now;
    return std::exchange(count_, 0);
  }

 private:
  clock::duration interval_;
  clock::time_point last_{};
  bool told_ = false;
  std::uint64_t count_ = 0;
};

}  // namespace mxtls::log
