// The file descriptors mxtls-policyd may hold at once, by what its
// configuration allows, against the process's limit: a configuration whose
// worst case cannot fit is refused at start and by --check-config (exit 78)
// instead of being found out by accept failing under load.
#pragma once
#include <cstdint>
#include <string>

#include "config/config.h"

namespace mxtls {

// The worst case, for `listeners` listening sockets.
std::uint64_t worst_case_fds(const Config& config, std::size_t listeners);

// Empty when the worst case fits `limit`; else the error, naming the keys
// that set it.
std::string fd_budget_error(const Config& config, std::size_t listeners, std::uint64_t limit);

}  // namespace mxtls
