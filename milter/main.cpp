// mxtls-milter: the libmilter adapter. Asks mxtls-policyd per recipient and
// turns its decisions into milter replies (tempfail, quarantine, a header)
// and log lines with the queue id. Works with Postfix and Sendmail.
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <iostream>

#include "config/config.h"
#include "filter.h"
#include "log/logger.h"

namespace po = boost::program_options;
using namespace mxtls;

namespace {

// libmilter creates the unix socket itself; we set its owner and mode after.
void apply_socket_permissions(const MilterConfig& m) {
  std::string path;
  if (m.socket.rfind("unix:", 0) == 0) path = m.socket.substr(5);
  else if (m.socket.rfind("local:", 0) == 0) path = m.socket.substr(6);
  else return;
  unsigned mode = 0;
  const auto r = std::from_chars(m.socket_mode.data(), m.socket_mode.data() + m.socket_mode.size(), mode, 8);
  if (r.ec != std::errc() || mode > 0777) throw ConfigError("milter.socket_mode: '" + m.socket_mode + "' is not an octal mode");
  if (chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path + " failed");
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!m.socket_owner.empty()) {
    const passwd* pw = getpwnam(m.socket_owner.c_str());
    if (!pw) throw ConfigError("milter.socket_owner: no such user '" + m.socket_owner + "'");
    uid = pw->pw_uid;
  }
  if (!m.socket_group.empty()) {
    const group* gr = getgrnam(m.socket_group.c_str());
    if (!gr) throw ConfigError("milter.socket_group: no such group '" + m.socket_group + "'");
    gid = gr->gr_gid;
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && chown(path.c_str(), uid, gid) != 0)
    throw std::runtime_error("chown " + path + " failed");
}

}  // namespace

int main(int argc, char** argv) {
  // libmilter stops on SIGTERM/SIGINT/SIGHUP by sigwait() in a thread of its
  // own; that works only if no other thread (the log flusher) can take them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string config_path = kDefaultConfigPath;
  std::string log_target;
  po::options_description options("mxtls-milter [OPTIONS]\n\nMilter for Postfix and Sendmail: per-recipient TLS verdicts from mxtls-policyd.\nOptions");
  options.add_options()
      ("help,h", "show this help")
      ("config,c", po::value(&config_path), "configuration file (default /etc/mxtls/mxtls.conf)")
      ("log", po::value(&log_target), "override [log] target: syslog, stderr, file:/path")
      ("check-config", "read the configuration, report errors, and exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n" << options;
    return 64;
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  Config config;
  MilterSettings settings;
  try {
    config = load_config(config_path, !vm.count("config"));
    if (!log_target.empty()) config.log.target = log_target;
    settings = build_milter_settings(config.milter, config.policy);
    log::init({config.log.target, config.log.facility, "mxtls-milter", config.log.level});
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  if (vm.count("check-config")) {
    std::cout << "mxtls-milter: configuration OK\n";
    return 0;
  }
  install_filter(std::move(settings), std::make_unique<PolicyClient>(config.milter.engine, config.milter.engine_timeout.value));
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
    apply_socket_permissions(config.milter);
  } catch (const std::exception& e) {
    std::cerr << "mxtls-milter: " << e.what() << "\n";
    return 78;
  }
  log::info("ready: socket " + socket + ", engine " + config.milter.engine);
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
