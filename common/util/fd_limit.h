// The process's file descriptor limit (RLIMIT_NOFILE): raised from the soft
// to the hard limit at start, so a daemon that holds a connection per
// Postfix process is bounded by what the administrator allows (systemd's
// LimitNOFILE=), not by the historical soft default of 1024.
#pragma once
#include <cstdint>

namespace mxtls {

// Raises the soft limit to the hard one (as far as the kernel allows) and
// returns the soft limit in force afterwards.
std::uint64_t raise_fd_limit();

}  // namespace mxtls
