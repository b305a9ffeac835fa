// The command line both daemons share: --config, --log, --check-config,
// --help. Parsing it is the same for mxtls-policyd and mxtls-milter; what
// they do with the configuration is not.
#pragma once
#include <optional>
#include <string>

namespace mxtls {

struct DaemonOptions {
  std::string config_path;
  bool config_given = false;  // a missing default file is fine; a named one must exist
  std::string log_target;     // empty: [log] target
  bool check_config = false;
};

// Parses argv; on --help or a usage error prints what is due and returns
// nullopt with `exit_status` set (0 for --help, 64 for a usage error).
std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, const std::string& program,
                                                  const std::string& summary, int& exit_status);

}  // namespace mxtls
