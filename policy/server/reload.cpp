#include "server/reload.h"

#include "server/listen.h"
#include "store/open_store.h"

namespace mxtls {
namespace {

// One setting sized or opened at start: its name in the log, and how to
// carry the running value into a reloaded configuration.
struct RestartOnly {
  const char* name;
  void (*keep)(Config& loaded, const Config& running);
};

constexpr RestartOnly kRestartOnly[] = {
    {"policy.listen", [](Config& l, const Config& r) { l.policy.listen = r.policy.listen; }},
    {"policy.socketmap_listen", [](Config& l, const Config& r) { l.policy.socketmap_listen = r.policy.socketmap_listen; }},
    {"policy.socket_owner", [](Config& l, const Config& r) { l.policy.socket_owner = r.policy.socket_owner; }},
    {"policy.socket_group", [](Config& l, const Config& r) { l.policy.socket_group = r.policy.socket_group; }},
    {"policy.socket_mode", [](Config& l, const Config& r) { l.policy.socket_mode = r.policy.socket_mode; }},
    {"policy.max_connections", [](Config& l, const Config& r) { l.policy.max_connections = r.policy.max_connections; }},
    {"policy.max_connections_per_client",
     [](Config& l, const Config& r) { l.policy.max_connections_per_client = r.policy.max_connections_per_client; }},
    {"probe.concurrency", [](Config& l, const Config& r) { l.probe.concurrency = r.probe.concurrency; }},
    {"probe.connections_per_address",
     [](Config& l, const Config& r) { l.probe.connections_per_address = r.probe.connections_per_address; }},
    {"[store]", [](Config& l, const Config& r) { l.store = r.store; }},
    {"[dns]", [](Config& l, const Config& r) { l.dns = r.dns; }},
    {"[tls]", [](Config& l, const Config& r) { l.tls = r.tls; }},
    {"[log]", [](Config& l, const Config& r) { l.log = r.log; }},
    {"[metrics]", [](Config& l, const Config& r) { l.metrics = r.metrics; }},
    {"[mta_sts]", [](Config& l, const Config& r) { l.mta_sts = r.mta_sts; }},
    {"[feedback]", [](Config& l, const Config& r) { l.feedback = r.feedback; }},
};

}  // namespace

std::vector<std::string> changes_taking_restart(const Config& running, const Config& loaded) {
  std::vector<std::string> out;
  for (const auto& setting : kRestartOnly) {
    Config kept = loaded;
    setting.keep(kept, running);
    if (!(kept == loaded)) out.emplace_back(setting.name);
  }
  return out;
}

std::vector<std::string> apply_reload(const Config& loaded, RunningDaemon& running) {
  // Everything checked before anything changes: all or nothing.
  PolicySettings settings = build_policy_settings(loaded.policy);
  relayhost_key(loaded.policy.relayhost);
  parse_listen_specs(loaded.policy.listen, "policy.listen");
  parse_listen_specs(loaded.policy.socketmap_listen, "policy.socketmap_listen");
  check_store_config(loaded.store);

  auto restart = changes_taking_restart(running.config, loaded);
  // What takes a restart stays as it runs, so that the next reload is
  // compared with what really runs.
  Config now = loaded;
  for (const auto& setting : kRestartOnly) setting.keep(now, running.config);
  running.settings = std::move(settings);
  running.policy.reconfigure(now.policy);
  running.socketmap.reconfigure(now.policy);
  running.scheduler.reconfigure(now.cache);
  running.probes.reconfigure(now.probe);
  running.config = std::move(now);
  return restart;
}

}  // namespace mxtls
