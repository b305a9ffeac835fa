// The command-line handling every `mxtls` sub-command shares: Boost
// program_options over the sub-command's arguments, `--help` printing the
// options (exit 0), and a usage error printing what was wrong and the
// options (exit 64). Each command declares only its own options.
#pragma once
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mxtls::cli {

namespace po = boost::program_options;

struct CommandLine {
  std::string command;                 // "mxtls probe", for messages
  po::options_description visible;     // shown by --help; must declare "help"
  std::string positional_name;         // "" when the command takes no operands
  std::vector<std::string>* operands = nullptr;
};

// Parses `args` into `vm`. Returns the exit status when the command should
// stop now (--help, usage error), nullopt when it should run.
std::optional<int> parse_command_line(const CommandLine& line, const std::vector<std::string>& args,
                                      po::variables_map& vm);

// Prints "COMMAND: MESSAGE" and the options; returns the usage exit status.
int usage_error(const CommandLine& line, const std::string& message);

}  // namespace mxtls::cli
