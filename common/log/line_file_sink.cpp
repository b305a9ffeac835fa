#include "log/line_file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mxtls::log {

namespace {

// Read and write when allowed (to look at the last byte), else write only.
int open_for_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd >= 0 || errno != EACCES) return fd;
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
}

}  // namespace

LineFileSink::LineFileSink(const std::string& path) : fd_(open_for_append(path)) {
  if (fd_ < 0) throw std::runtime_error("log file " + path + ": " + std::strerror(errno));
  struct stat st {};
  char last = '\n';
  if (::fstat(fd_, &st) == 0 && st.st_size > 0 && ::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n')
    write_all("\n", 1);
}

LineFileSink::~LineFileSink() { ::close(fd_); }

void LineFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);  // the whole line, end of line included
  write_all(line.data(), line.size());
}

// One write; the loop only finishes one that a full disk or a signal cut
// short. A line that cannot be written is dropped: there is nowhere to say so.
void LineFileSink::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace mxtls::log
