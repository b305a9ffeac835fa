// Process-wide logging for the daemons and the CLI: syslog (facility mail by
// default, like Postfix), stderr or a file, one line per event. Callers build
// Postfix-shaped "key=value, key=value" text and sanitize untrusted fields
// themselves (log/sanitize.h); this module only routes lines.
#pragma once
#include <string>
#include <string_view>

namespace mxtls::log {

// In the calling thread, or by a writer thread of the log's own.
enum class Writing { in_caller, writer_thread };

struct Options {
  std::string target = "syslog";     // syslog | stderr | file:/path | none
  std::string facility = "mail";     // syslog facility name
  std::string ident = "mxtls";       // program name in the line (mxtls-policyd, ...)
  std::string level = "info";        // debug | info | warning | error
  // The daemons write lines from a thread of their own, so answering never
  // waits on the target; the CLI writes them before it goes on.
  Writing writing = Writing::in_caller;
};

// Throws std::runtime_error naming the bad value (start-up error).
void init(const Options& options);

void debug(std::string_view line);
// Whether debug lines are written: hot paths skip building them otherwise.
bool debug_enabled();
void info(std::string_view line);
// Whether info lines are written (not with target none or level warning).
bool info_enabled();
void warning(std::string_view line);
void error(std::string_view line);
// Returns once every line logged so far is written.
void flush();

}  // namespace mxtls::log
