#include "server/fd_budget.h"

#include <fmt/format.h>

namespace mxtls {
namespace {

// The newest connection is open for a moment before the one it replaces
// (the idle longest, when the budget is full) is closed.
constexpr std::uint64_t kReplacing = 1;
// SQLite in WAL mode: database, -wal and -shm files, for the writer's
// connection and for a reader while verdicts load (at start and SIGHUP).
constexpr std::uint64_t kSqliteStore = 6;
// A log file or the syslog socket.
constexpr std::uint64_t kLog = 1;
// The process itself: stdin/stdout/stderr (3), the io_context's epoll,
// eventfd and timerfd (3), the signal pipe (2), libunbound's pipes, event
// base and signal socketpair (about 8): 16 counted, doubled for what a
// library opens briefly and we do not see (OpenSSL reading a CA file, a
// resolver reading /etc/hosts).
constexpr std::uint64_t kProcess = 32;

// Postfix's connections, probe connections (one socket each) and DNS
// queries in flight (libunbound opens a socket per query; a destination
// being probed asks at most max_mx_hosts at once, for the A or AAAA
// records of its MX hosts).
struct Need {
  std::uint64_t connections, probes, dns, fixed;
  std::uint64_t total() const { return connections + probes + dns + fixed; }
};

Need need_of(const Config& c, std::size_t listeners) {
  Need n;
  n.connections = static_cast<std::uint64_t>(c.policy.max_connections) + kReplacing;
  n.probes = static_cast<std::uint64_t>(c.probe.concurrency);
  n.dns = static_cast<std::uint64_t>(c.cache.max_parallel) * static_cast<std::uint64_t>(c.probe.max_mx_hosts);
  n.fixed = listeners + (c.store.backend == "sqlite" ? kSqliteStore : 0) + kLog + kProcess;
  return n;
}

}  // namespace

std::uint64_t worst_case_fds(const Config& config, std::size_t listeners) { return need_of(config, listeners).total(); }

std::string fd_budget_error(const Config& config, std::size_t listeners, std::uint64_t limit) {
  const Need n = need_of(config, listeners);
  if (n.total() <= limit) return {};
  return fmt::format(
      "policy.max_connections ({}) + probe.concurrency ({}) + cache.max_parallel x probe.max_mx_hosts ({} x {}, DNS "
      "queries) + {} for listeners, store, log and the process need {} file descriptors at worst, more than the "
      "limit of {} (RLIMIT_NOFILE): lower those settings or raise the limit (systemd: LimitNOFILE=)",
      config.policy.max_connections, config.probe.concurrency, config.cache.max_parallel, config.probe.max_mx_hosts,
      n.fixed + kReplacing, n.total(), limit);
}

}  // namespace mxtls
