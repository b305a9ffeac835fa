#include "log/line_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace mxtls::log {
namespace {

// Read and write when allowed (to look at the last byte), else write only.
int open_for_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd >= 0 || errno != EACCES) return fd;
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
}

}  // namespace

LineFile::LineFile(const std::string& path) : fd_(open_for_append(path)), owned_(true) {
  if (fd_ < 0) throw std::runtime_error("log file " + path + ": " + std::strerror(errno));
  struct stat st {};
  char last = '\n';
  if (::fstat(fd_, &st) == 0 && st.st_size > 0 && ::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n')
    write("\n", 1);
}

LineFile::~LineFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

LineFile::LineFile(LineFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_) {}

void LineFile::write(const char* data, std::size_t size) const {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace mxtls::log
