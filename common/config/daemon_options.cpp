#include "config/daemon_options.h"

#include <boost/program_options.hpp>
#include <iostream>

#include "config/config.h"

namespace po = boost::program_options;

namespace mxtls {

std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, const std::string& program,
                                                  const std::string& summary, int& exit_status) {
  DaemonOptions o;
  o.config_path = kDefaultConfigPath;
  po::options_description options(program + " [OPTIONS]\n\n" + summary + "\nOptions");
  options.add_options()
      ("help,h", "show this help")
      ("config,c", po::value(&o.config_path), "configuration file (default /etc/mxtls/mxtls.conf)")
      ("log", po::value(&o.log_target), "override [log] target: syslog, stderr, file:/path")
      ("check-config", "read the configuration, report errors, and exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n" << options;
    exit_status = 64;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << options;
    exit_status = 0;
    return std::nullopt;
  }
  o.config_given = vm.count("config") > 0;
  o.check_config = vm.count("check-config") > 0;
  return o;
}

}  // namespace mxtls
