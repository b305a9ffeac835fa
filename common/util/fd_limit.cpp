#include "util/fd_limit.h"

#include <sys/resource.h>

#include <fstream>

namespace mxtls {
namespace {

// An unlimited hard limit cannot be the soft one: the kernel caps open
// files at fs.nr_open.
rlim_t kernel_cap() {
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t n = 0;
  return in >> n && n > 0 ? n : 1048576;
}

}  // namespace

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? kernel_cap() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    rlimit raised{wanted, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = wanted;
  }
  return limit.rlim_cur == RLIM_INFINITY ? kernel_cap() : limit.rlim_cur;
}

}  // namespace mxtls
