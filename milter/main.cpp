// mxtls-milter: the libmilter adapter. Asks mxtls-policyd per recipient and
// turns its decisions into milter replies (tempfail, quarantine, a header)
// and log lines with the queue id. Works with Postfix and Sendmail.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "config/config.h"
#include "config/daemon_options.h"
#include "config/socket_access.h"
#include "filter.h"
#include "log/logger.h"
#include "metrics/endpoint.h"
#include "milter_metrics.h"
#include "util/fd_limit.h"
#include "util/systemd_notify.h"

using namespace mxtls;

namespace {

// libmilter creates the unix socket itself; owner and mode are set after.
void set_socket_access(const std::string& socket, const SocketAccess& access) {
  for (const char* prefix : {"unix:", "local:"})
    if (socket.rfind(prefix, 0) == 0) apply_socket_access(socket.substr(std::strlen(prefix)), access);
}

// Signals reach the main thread through this pipe (see main).
int g_signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  (void)!write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

// A reload: the [milter] settings and the engine client from the file again;
// a bad file is logged and the running settings stay.
void reload(const DaemonOptions& options, const MilterConfig& running) {
  try {
    const Config config = load_config(options.config_path, !options.config_given);
    auto settings = build_milter_settings(config.milter, config.policy);
    const auto engine = parse_socket_address(config.milter.engine, "milter.engine");
    install_filter(std::move(settings), std::make_unique<PolicyClient>(engine, config.milter.engine_timeout.value));
    log::info("reload: [milter] settings applied from " + options.config_path +
              (config.milter.socket != running.socket ? "; the new socket takes a restart" : ""));
  } catch (const std::exception& e) {
    log::error(std::string("reload: ") + e.what() + "; keeping the running settings");
  }
}

// The listening socket libmilter opened (the process's only one).
int listening_socket() {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) return fd;
  }
  return -1;
}

// libmilter's listener notices a stop only when its poll() returns, after up
// to 5 s (MI_CHK_TIME) when no MTA connects: connect to it to wake it.
void wake_listener(const sockaddr_storage& address, socklen_t length) {
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)!connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  // libmilter's own thread would stop on SIGTERM/SIGINT/SIGHUP by sigwait();
  // here the main thread takes them (a reload on SIGHUP): blocked in every
  // other thread, so none is lost before the main thread is ready for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int exit_status = 0;
  const auto options = parse_daemon_options(
      argc, argv, "mxtls-milter", "Milter for Postfix and Sendmail: per-recipient TLS verdicts from mxtls-policyd.", exit_status);
  if (!options) return exit_status;
  // A thread and a descriptor per SMTP session, and the engine connections.
  raise_fd_limit();
  Config config;
  MilterSettings settings;
  SocketAddress engine;
  SocketAccess socket_access;
  try {
    config = load_config(options->config_path, !options->config_given);
    if (!options->log_target.empty()) config.log.target = options->log_target;
    settings = build_milter_settings(config.milter, config.policy);
    engine = parse_socket_address(config.milter.engine, "milter.engine");
    socket_access = resolve_socket_access(config.milter.socket_owner, config.milter.socket_group,
                                          config.milter.socket_mode, "milter.");
    check_metrics_listen(config.metrics.milter_listen, "metrics.milter_listen");
    log::init({config.log.target, config.log.facility, "mxtls-milter", config.log.level, log::Writing::writer_thread});
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  if (options->check_config) {
    std::cout << "mxtls-milter: configuration OK\n";
    return 0;
  }
  install_filter(std::move(settings), std::make_unique<PolicyClient>(engine, config.milter.engine_timeout.value));
  MetricsEndpoint endpoint;
  MilterMetrics metrics(endpoint.registry());
  install_milter_metrics(&metrics);
  if (!config.metrics.milter_listen.empty()) {
    try {
      endpoint.listen(config.metrics.milter_listen, "metrics.milter_listen");
    } catch (const std::exception& e) {
      std::cerr << "mxtls-milter: " << e.what() << "\n";
      return 1;
    }
  }
  smfiDesc desc = filter_description();
  std::string socket = config.milter.socket;
  if (smfi_setconn(socket.data()) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
    std::cerr << "mxtls-milter: cannot use socket " << socket << "\n";
    return 78;
  }
  if (smfi_opensocket(true) == MI_FAILURE) {
    std::cerr << "mxtls-milter: cannot open socket " << socket << "\n";
    return 1;
  }
  try {
    set_socket_access(socket, socket_access);
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  // Where to connect to wake the listener: its own address (any -> loopback).
  sockaddr_storage wake_address{};
  socklen_t wake_length = sizeof wake_address;
  if (const int fd = listening_socket(); fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&wake_address), &wake_length) != 0)
    wake_length = 0;
  if (wake_address.ss_family == AF_INET) {
    auto& in = reinterpret_cast<sockaddr_in&>(wake_address);
    if (in.sin_addr.s_addr == htonl(INADDR_ANY)) in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (wake_address.ss_family == AF_INET6) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(wake_address);
    if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) in6.sin6_addr = in6addr_loopback;
  }

  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    std::cerr << "mxtls-milter: pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
  // Those that came while starting go into the pipe now, before libmilter's
  // thread exists; the threads started next inherit the blocked mask.
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<int> status{0};
  std::atomic<bool> listener_done{false};
  std::thread listener([&] {
    status = smfi_main() == MI_SUCCESS ? 0 : 1;
    listener_done = true;
    on_signal(0);
  });
  // Only the main thread has them unblocked, and the kernel offers a
  // process's signal to its main thread first: libmilter's thread (which
  // would stop on SIGHUP) gets only what is forwarded to it below.
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  const std::string ready = "socket " + socket + ", engine " + config.milter.engine;
  log::info("ready: " + ready);
  systemd::ready(ready);
  // The watchdog is fed between signals: it shows that this thread turns
  // and that libmilter's listener has not ended (then the loop ends).
  const auto watchdog = systemd::watchdog_interval();
  const int poll_ms = watchdog ? static_cast<int>(std::max<long long>(1, watchdog->count() / 1000)) : -1;
  for (;;) {
    if (watchdog) systemd::watchdog_alive();
    pollfd readable{g_signal_pipe[0], POLLIN, 0};
    const int n = poll(&readable, 1, poll_ms);
    if (n == 0) continue;
    unsigned char sig = 0;
    if (n < 0 || read(g_signal_pipe[0], &sig, 1) != 1) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (sig == SIGHUP) {
      systemd::reloading();
      reload(*options, config.milter);
      systemd::ready(ready);
      continue;
    }
    if (sig == 0) break;  // the listener ended by itself
    systemd::stopping();
    log::info("stopping on signal " + std::to_string(sig));
    // libmilter's own stop, by its signal thread: the only one that takes
    // SIGTERM once this thread blocks it.
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    kill(getpid(), SIGTERM);
    for (int i = 0; i < 100 && !listener_done; ++i) {
      if (wake_length) wake_listener(wake_address, wake_length);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    break;
  }
  listener.join();
  log::flush();  // the writer thread's queue, sent while we are alive
  // journald names the unit of a syslog line by the sender's process: gone
  // too soon, and the last lines are missing from journalctl -u.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return status;
}
