#include "util/systemd_notify.h"

#include <systemd/sd-daemon.h>

namespace mxtls::systemd {
namespace {

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

// systemd reads STATUS= up to the end of its line: a newline in the text
// would end it early, so none reaches it.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

void ready(const std::string& status) { notify("READY=1\nSTATUS=" + one_line(status)); }
void reloading() { notify("RELOADING=1"); }
void stopping() { notify("STOPPING=1"); }
void status(const std::string& text) { notify("STATUS=" + one_line(text)); }
void watchdog_alive() { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace mxtls::systemd
