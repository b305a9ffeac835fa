// The file log target: each line reaches the file in one write(2) on an
// O_APPEND descriptor, as soon as it is logged, so a process killed at any
// moment (SIGKILL, OOM) never leaves half a line, and lines from concurrent
// writers never interleave. No lock is shared between threads: each formats
// with a formatter of its own, and the kernel keeps O_APPEND writes of
// whole lines apart. So the answering thread never waits for a probe
// thread that was preempted in the middle of its line. Not for stderr or
// syslog (see logger.cpp).
#pragma once
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <string>

namespace mxtls::log {

class LineFileSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  // Opens (creates) `path` for appending; throws std::runtime_error naming it.
  explicit LineFileSink(const std::string& path);
  ~LineFileSink() override;
  LineFileSink(const LineFileSink&) = delete;
  LineFileSink& operator=(const LineFileSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}  // nothing is buffered

 private:
  // This thread's copy of the formatter (a pattern formatter caches the
  // time it last formatted: it is not shared between threads).
  spdlog::formatter& thread_formatter();

  const std::uint64_t id_;  // tells this sink's formatter copies from an earlier sink's
  int fd_;
};

}  // namespace mxtls::log
