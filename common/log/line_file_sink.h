// The file log target: each line reaches the file in one write(2) on an
// O_APPEND descriptor, as soon as it is logged, so a process killed at any
// moment (SIGKILL, OOM) never leaves half a line, and lines from concurrent
// writers never interleave. Not for stderr or syslog (see logger.cpp).
// The writers queue on the sink's mutex: without it (each thread formatting
// on its own, the kernel's O_APPEND keeping lines apart) the answering
// thread queued in write(2) behind the probe thread instead, and its p99
// while probing was 3-5x worse in tests/bench/answer_latency_bench.
#pragma once
#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>

namespace mxtls::log {

class LineFileSink final : public spdlog::sinks::base_sink<std::mutex> {
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
  int fd_;
};

}  // namespace mxtls::log
