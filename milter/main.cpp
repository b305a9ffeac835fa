// mxtls-milter: the libmilter adapter. Asks mxtls-policyd per recipient and
// turns its decisions into milter replies (tempfail, quarantine, a header)
// and log lines with the queue id. Works with Postfix and Sendmail.
#include <pthread.h>
#include <signal.h>

#include <cstring>
#include <iostream>

#include "config/config.h"
#include "config/daemon_options.h"
#include "filter.h"
#include "log/logger.h"
#include "config/socket_access.h"

using namespace mxtls;

namespace {

// libmilter creates the unix socket itself; owner and mode are set after.
void set_socket_permissions(const std::string& socket, const SocketPermissions& perms) {
  for (const char* prefix : {"unix:", "local:"})
    if (socket.rfind(prefix, 0) == 0) apply_socket_permissions(socket.substr(std::strlen(prefix)), perms);
}

}  // namespace

int main(int argc, char** argv) {
  // libmilter stops on SIGTERM/SIGINT/SIGHUP by sigwait() in a thread of its
  // own; that works only if no other thread (the log flusher) can take them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int exit_status = 0;
  const auto options = parse_daemon_options(
      argc, argv, "mxtls-milter", "Milter for Postfix and Sendmail: per-recipient TLS verdicts from mxtls-policyd.", exit_status);
  if (!options) return exit_status;
  Config config;
  MilterSettings settings;
  SocketAddress engine;
  SocketPermissions socket_permissions;
  try {
    config = load_config(options->config_path, !options->config_given);
    if (!options->log_target.empty()) config.log.target = options->log_target;
    settings = build_milter_settings(config.milter, config.policy);
    engine = parse_socket_address(config.milter.engine, "milter.engine");
    socket_permissions = resolve_socket_access(config.milter.socket_owner, config.milter.socket_group,
                                               config.milter.socket_mode, "milter.");
    log::init({config.log.target, config.log.facility, "mxtls-milter", config.log.level});
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  if (options->check_config) {
    std::cout << "mxtls-milter: configuration OK\n";
    return 0;
  }
  install_filter(std::move(settings), std::make_unique<PolicyClient>(engine, config.milter.engine_timeout.value));
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
    set_socket_permissions(socket, socket_permissions);
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  log::info("ready: socket " + socket + ", engine " + config.milter.engine);
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
