// Telling systemd how the daemon stands (sd_notify(3), units with
// Type=notify): ready once it answers, reloading and stopping while it
// does, and the watchdog's keep-alive. Outside systemd (no NOTIFY_SOCKET)
// every call does nothing.
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace mxtls::systemd {

void ready(const std::string& status);
void reloading();
void stopping();
void status(const std::string& text);
void watchdog_alive();

// How often to call watchdog_alive(): half the unit's WatchdogSec=, or
// nothing when the unit has no watchdog for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace mxtls::systemd
