// The sink behind every log target but none. It formats a line and hands it
// to its target (a file, standard error or syslog) either at once, in the
// calling thread (the CLI, whose lines must come out before it goes on), or
// through a writer thread of its own (the daemons): a thread that answers
// the MTA then only formats and appends to a buffer under a short lock, and
// never waits on a disk, a full syslog socket or another thread's write.
// While lines come, the writer takes everything queued every kGathering,
// so a busy daemon writes many lines per write(2) and the threads that log
// never wake it; after kPolling without lines it sleeps until the next one
// wakes it. A line reaches the target within about kGathering of being
// logged; a process killed before its writer ran loses those moments' lines.
// The queue is bounded: past kMaxQueuedBytes (a stalled disk or syslog)
// lines are dropped and counted, and the writer says how many once the
// target takes lines again.
#pragma once
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "log/logger.h"

namespace mxtls::log {

// Formatted lines, each ending in '\n', with their levels (syslog needs them).
struct Lines {
  struct Line {
    std::size_t end;  // one past its '\n' in text
    spdlog::level::level_enum level;
  };
  std::string text;
  std::vector<Line> lines;

  bool empty() const { return lines.empty(); }
  void clear() {
    text.clear();
    lines.clear();
  }
};

// Where lines go; called by one thread at a time.
class LineTarget {
 public:
  virtual ~LineTarget() = default;
  virtual void write(const Lines& lines) = 0;
};

class LineSink final : public spdlog::sinks::sink {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 8 << 20;
  static constexpr std::size_t kKeptBytes = 1 << 20;  // buffer kept between batches
  // Each look is a wake-up of the writer, i.e. context switches that the
  // cores serving the MTA pay for: at 2 ms, mxtls-milter inspecting made 4
  // more per message (perf stat, 3 rounds each way: 32-33 vs 28-30) and
  // 4-9% more CPU. A log line may wait this long; flush() does not.
  static constexpr std::chrono::milliseconds kGathering{20};
  static constexpr std::chrono::milliseconds kPolling{200};

  LineSink(std::unique_ptr<LineTarget> target, Writing writing);
  // Writes what is queued, then ends the writer thread.
  ~LineSink() override;
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;

  void log(const spdlog::details::log_msg& msg) override;
  // Returns once every line logged before the call is written.
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  void append(Lines& into, const spdlog::details::log_msg& msg);  // mutex_ held
  void run();

  const std::unique_ptr<LineTarget> target_;
  const Writing writing_;
  std::mutex mutex_;
  std::condition_variable queued_;   // the writer waits for lines, a flush or the end
  std::condition_variable written_;  // flush() waits for the writer
  std::unique_ptr<spdlog::formatter> formatter_;
  spdlog::memory_buf_t scratch_;
  Lines pending_;
  std::uint64_t appended_ = 0;  // lines taken since the start
  std::uint64_t done_ = 0;      // of which written
  std::uint64_t dropped_ = 0;   // lines dropped since the writer last said so
  int flushers_ = 0;            // threads in flush(), waiting for the writer
  bool writer_asleep_ = false;  // until a line wakes it
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace mxtls::log
