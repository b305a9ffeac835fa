#include "log/line_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace mxtls::log {

namespace {
std::atomic<std::uint64_t> next_sink_id{1};
}  // namespace

LineFileSink::LineFileSink(const std::string& path) : id_(next_sink_id++), fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) {
  if (fd_ < 0) throw std::runtime_error("log file " + path + ": " + std::strerror(errno));
}

LineFileSink::~LineFileSink() { ::close(fd_); }

spdlog::formatter& LineFileSink::thread_formatter() {
  // The formatter is set once, before any line (log::init); a thread
  // copies it at its first line to this sink.
  thread_local std::uint64_t owner = 0;
  thread_local std::unique_ptr<spdlog::formatter> copy;
  if (owner != id_) {
    copy = formatter_->clone();
    owner = id_;
  }
  return *copy;
}

void LineFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  thread_formatter().format(msg, line);  // the whole line, end of line included
  const char* data = line.data();
  std::size_t left = line.size();
  // One write; the loop only finishes one that a full disk cut short (a
  // line's rest may then follow another thread's line). A line that cannot
  // be written is dropped: there is nowhere to say so.
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace mxtls::log
