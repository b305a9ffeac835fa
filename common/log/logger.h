// Process-wide logging for the daemons and the CLI: syslog (facility mail by
// default, like Postfix), stderr or a file, one line per event. Callers build
// Postfix-shaped "key=value, key=value" text and sanitize untrusted fields
// themselves (log/sanitize.h); this module only routes lines.
#pragma once
#include <string>
#include <string_view>

namespace mxtls::log {

struct Options {
  std::string target = "syslog";     // syslog | stderr | file:/path | none
  std::string facility = "mail";     // syslog facility name
  std::string ident = "mxtls";       // program name in the line (mxtls-policyd, ...)
  std::string level = "info";        // debug | info | warning | error
};

// Throws std::runtime_error naming the bad value (start-up error).
void init(const Options& options);

void debug(std::string_view line);
// Whether debug lines are written: hot paths skip building them otherwise.
bool debug_enabled();
void info(std::string_view line);
void warning(std::string_view line);
void error(std::string_view line);

}  // namespace mxtls::log
