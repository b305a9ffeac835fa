#include "cli/command_line.h"

#include <iostream>

#include "cli/commands.h"

namespace mxtls::cli {

int usage_error(const CommandLine& line, const std::string& message) {
  std::cerr << line.command << ": " << message << "\n" << line.visible;
  return kExitUsage;
}

std::optional<int> parse_command_line(const CommandLine& line, const std::vector<std::string>& args,
                                      po::variables_map& vm) {
  po::options_description all;
  all.add(line.visible);
  po::positional_options_description positional;
  if (line.operands) {
    all.add_options()(line.positional_name.c_str(), po::value(line.operands));
    positional.add(line.positional_name.c_str(), -1);
  }
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(line, e.what());
  }
  if (vm.count("help")) {
    std::cout << line.visible;
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace mxtls::cli
