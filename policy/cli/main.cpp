// mxtls: the operator CLI. `mxtls probe` asks a destination what TLS it
// speaks and says whether our MTA can deliver to it, and why not.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage = R"(usage: mxtls COMMAND [OPTIONS] ...

Commands:
  probe TARGET...   probe destinations' TLS and classify what breaks delivery
                    (TARGET: example.com for an MX lookup, or [mx.example.com]:25)
  cache list|show DOMAIN|forget DOMAIN|flush
                    inspect or edit the verdicts mxtls-policyd stored
  report            what the verdicts, the recent probes and (--log) the
                    decision log lines say: problems by reason with fixes,
                    verdict changes, recipients affected per destination

Run `mxtls COMMAND --help` for a command's options.

Exit status (probe): 0 ok, 1 warnings, 2 incompatible, 3 could not probe,
64 usage error, 78 configuration error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? mxtls::cli::kExitUsage : mxtls::cli::kExitOk;
  }
  if (args[0] == "--version") {
    std::puts("mxtls " MXTLS_VERSION);
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "probe") return mxtls::cli::probe_command(args);
  if (command == "cache") return mxtls::cli::cache_command(args);
  if (command == "report") return mxtls::cli::report_command(args);
  std::fprintf(stderr, "mxtls: unknown command '%s'\n%s", command.c_str(), kUsage);
  return mxtls::cli::kExitUsage;
}
