// What SIGHUP does to the configuration of a running mxtls-policyd: the file
// read again and checked as at start; [policy] actions, overrides and
// timeouts, [cache] and the probe timeouts applied without dropping a
// connection or a cached verdict. Settings that open or size something at
// start (listeners, socket access, connection limits, store, DNS, TLS
// profile, log, probe concurrency) are named in the log as taking a restart.
// A file that does not pass keeps the running configuration whole.
#pragma once
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/decision.h"
#include "engine/scheduler.h"
#include "engine/probe_thread.h"
#include "server/policy_service.h"
#include "server/socketmap_service.h"

namespace mxtls {

struct RunningDaemon {
  Config& config;            // what runs now; replaced by a reload that passes
  PolicySettings& settings;  // read by both services
  PolicyService& policy;
  SocketmapService& socketmap;
  Scheduler& scheduler;
  ProbeThread& probes;  // reconfigured on its own thread
};

// Checks `loaded` and applies it; throws ConfigError (naming the key) and
// changes nothing when it does not pass. Returns the settings that changed
// but take a restart ("policy.listen", "store", ...).
std::vector<std::string> apply_reload(const Config& loaded, RunningDaemon& running);

// The restart-only settings in which `loaded` differs from `running`.
std::vector<std::string> changes_taking_restart(const Config& running, const Config& loaded);

}  // namespace mxtls
