#include "log/line_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mxtls::log {

LineFileSink::LineFileSink(const std::string& path) : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) {
  if (fd_ < 0) throw std::runtime_error("log file " + path + ": " + std::strerror(errno));
}

LineFileSink::~LineFileSink() { ::close(fd_); }

void LineFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);  // the whole line, end of line included
  const char* data = line.data();
  std::size_t left = line.size();
  // One write; the loop only finishes one that a full disk or a signal cut
  // short. A line that cannot be written is dropped: there is nowhere to say so.
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace mxtls::log
