// The engine's recent answers, per recipient domain, inside mxtls-milter:
// a message to a domain asked about a moment ago is judged without another
// round trip to mxtls-policyd. Answers live `ttl` (seconds; 0 = off), at
// most `capacity` domains; only answers with a verdict are kept (an
// "unknown" one means a probe is under way, and the next message should ask
// again). Thread-safe: libmilter runs callbacks on many threads.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "codec/engine_verdict.h"

namespace mxtls {

class VerdictMemo {
 public:
  using Clock = std::chrono::steady_clock;
  VerdictMemo(std::chrono::milliseconds ttl, std::size_t capacity);

  std::optional<codec::EngineVerdict> find(const std::string& domain, Clock::time_point now = Clock::now());
  void remember(const std::string& domain, const codec::EngineVerdict& answer, Clock::time_point now = Clock::now());

 private:
  struct Entry {
    codec::EngineVerdict answer;
    Clock::time_point expires;
  };
  void make_room(Clock::time_point now);

  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mxtls
