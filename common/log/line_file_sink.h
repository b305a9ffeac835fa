// The file log target: each line reaches the file in one write(2) on an
// O_APPEND descriptor, as soon as it is logged, so lines from concurrent
// writers never interleave and a line is never held in a buffer of ours.
// A process killed (SIGKILL, OOM) while the kernel copies a line that
// crosses a page of the file can leave that one line cut short: Linux
// checks for a fatal signal between pages. Opening the file again (the next
// start) ends such a fragment with a newline, so it stays a line of its own
// and the next line is whole. Not for stderr or syslog (see logger.cpp).
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
  // Opens (creates) `path` for appending and ends a fragment a killed
  // writer left; throws std::runtime_error naming the file.
  explicit LineFileSink(const std::string& path);
  ~LineFileSink() override;
  LineFileSink(const LineFileSink&) = delete;
  LineFileSink& operator=(const LineFileSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}  // nothing is buffered

 private:
  void write_all(const char* data, std::size_t size);
  int fd_;
};

}  // namespace mxtls::log
