// Sub-commands of the `mxtls` operator CLI. Each takes its own arguments
// (after the sub-command name) and returns the process exit status.
#pragma once
#include <string>
#include <vector>

namespace mxtls::cli {

// Exit statuses, documented in `mxtls --help` and mxtls(1).
inline constexpr int kExitOk = 0;
inline constexpr int kExitWarning = 1;
inline constexpr int kExitIncompatible = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitUsage = 64;   // EX_USAGE
inline constexpr int kExitConfig = 78;  // EX_CONFIG

int probe_command(const std::vector<std::string>& args);
int cache_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);

}  // namespace mxtls::cli
