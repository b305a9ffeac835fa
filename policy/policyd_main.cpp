// mxtls-policyd: the engine daemon. Postfix policy delegation server and
// socketmap server answering from cached TLS verdicts; probes unknown and
// expiring destinations in the background; persists verdicts in the store.
// Three threads: one io_context answers (policy, socketmap, metrics,
// watchdog, fleet, feedback, the scheduler's bookkeeping and the cache);
// probes run and are judged on the probe thread (engine/probe_thread.h),
// which also looks up the socketmap's MTA-STS policies (engine/sts_policies.h);
// the store writes on its own (engine/store_writer.h).
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "config/config.h"
#include "config/daemon_options.h"
#include "config/socket_access.h"
#include "engine/daemon_metrics.h"
#include "engine/feedback.h"
#include "engine/decision.h"
#include "engine/fleet.h"
#include "engine/probe_thread.h"
#include "engine/scheduler.h"
#include "engine/sts_policies.h"
#include "engine/store_writer.h"
#include "engine/verdict_cache.h"
#include "log/logger.h"
#include "metrics/endpoint.h"
#include "probe/probe_setup.h"
#include "probe/prober.h"
#include "server/connection_table.h"
#include "server/fd_budget.h"
#include "server/listen.h"
#include "server/policy_service.h"
#include "server/reload.h"
#include "server/socketmap_service.h"
#include "store/open_store.h"
#include "util/fd_limit.h"
#include "util/systemd_notify.h"

using namespace mxtls;

namespace {

constexpr int kExitConfig = 78;

// Reads every verdict through a connection of its own: the writer thread
// owns the daemon's.
std::size_t load_cache(const StoreConfig& config, VerdictCache& cache) {
  const auto reader = open_store(config, StoreAccess::existing);
  if (!reader) return 0;
  std::size_t n = 0;
  reader->for_each([&](const StoredVerdict& v) {
    cache.put(v);
    ++n;
  });
  return n;
}

std::string profile_text(const ClientProfile& p) { return p.source.empty() ? p.name : p.name + " (" + p.source + ")"; }

// SIGHUP: the configuration file again (see server/reload.h), then the
// stored verdicts again (`mxtls cache forget/flush` edit the store).
void reload(const DaemonOptions& options, RunningDaemon& running, VerdictCache& cache) {
  try {
    Config loaded = load_config(options.config_path, !options.config_given);
    if (!options.log_target.empty()) loaded.log.target = options.log_target;
    const auto restart = apply_reload(loaded, running);
    std::string line = "reload: configuration applied from " + options.config_path;
    if (!restart.empty()) {
      line += "; changed but taking a restart:";
      for (const auto& name : restart) line += " " + name;
    }
    log::info(line);
  } catch (const std::exception& e) {
    log::error("reload: " + options.config_path + ": " + e.what() + "; keeping the running configuration");
  }
  cache.clear();
  try {
    log::info("reload: " + std::to_string(load_cache(running.config.store, cache)) + " verdicts loaded from the store");
  } catch (const StoreError& e) {
    log::error(std::string("reload: ") + e.what());
  }
}

// The metrics' gauges, from the io thread that owns what they count.
void sample_metrics(asio::steady_timer& timer, DaemonMetrics& metrics, const VerdictCache& cache,
                    const Scheduler& scheduler, const StoreWriter& writer, const Fleet* fleet) {
  DaemonSample s;
  s.cached = cache.by_severity();
  s.queued = scheduler.queued();
  s.in_flight = scheduler.in_flight();
  s.store_up = writer.up();
  s.local_problem = scheduler.local_problem();
  s.store_failures = writer.failures();
  if (fleet) s.fleet = fleet->counters();
  metrics.sample(s);
  timer.expires_after(std::chrono::seconds(5));
  timer.async_wait([&, fleet](const boost::system::error_code& ec) {
    if (!ec) sample_metrics(timer, metrics, cache, scheduler, writer, fleet);
  });
}

// The watchdog's keep-alive comes from the io thread: a loop that no longer
// turns is restarted by systemd.
void keep_watchdog_fed(asio::steady_timer& timer, std::chrono::microseconds interval) {
  systemd::watchdog_alive();
  timer.expires_after(interval);
  timer.async_wait([&timer, interval](const boost::system::error_code& ec) {
    if (!ec) keep_watchdog_fed(timer, interval);
  });
}

}  // namespace

int main(int argc, char** argv) {
  // Until the io_context can take them, stop and reload signals wait
  // (blocked here, in every thread started from here and in postconf): a
  // stop while starting exits 0 once started, a reload is then applied.
  sigset_t start_signals;
  sigemptyset(&start_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&start_signals, sig);
  pthread_sigmask(SIG_BLOCK, &start_signals, nullptr);
  // A peer that closed first (Redis restarting under hiredis's write(2)) is
  // an error to handle, not a reason to die.
  signal(SIGPIPE, SIG_IGN);

  int exit_status = 0;
  const auto options = parse_daemon_options(argc, argv, "mxtls-policyd",
                                            "Postfix policy and socketmap server for TLS verdicts.", exit_status);
  if (!options) return exit_status;

  const std::uint64_t fd_limit = raise_fd_limit();
  Config config;
  ClientProfile profile;
  PolicySettings settings;
  std::vector<SocketAddress> policy_specs, socketmap_specs;
  SocketAccess socket_access;
  try {
    config = load_config(options->config_path, !options->config_given);
    if (!options->log_target.empty()) config.log.target = options->log_target;
    settings = build_policy_settings(config.policy);
    relayhost_key(config.policy.relayhost);  // validates it
    policy_specs = parse_listen_specs(config.policy.listen, "policy.listen");
    socketmap_specs = parse_listen_specs(config.policy.socketmap_listen, "policy.socketmap_listen");
    if (policy_specs.empty() && socketmap_specs.empty()) throw ConfigError("policy.listen and policy.socketmap_listen are both empty");
    check_store_config(config.store);
    check_metrics_listen(config.metrics.listen, "metrics.listen");
    check_feedback_config(config.feedback);
    if (config.store.backend == "redis" && config.store.redis_lease.value <= config.probe.destination_timeout.value)
      throw ConfigError("store.redis_lease must be longer than probe.destination_timeout: a lease that runs out "
                        "while its holder still probes lets another instance probe the same destination");
    socket_access = resolve_socket_access(config.policy.socket_owner, config.policy.socket_group,
                                          config.policy.socket_mode, "policy.");
    const auto fd_error = fd_budget_error(config, policy_specs.size() + socketmap_specs.size(), fd_limit);
    if (!fd_error.empty()) throw ConfigError(fd_error);
    profile = start_probe_side(config, "mxtls-policyd", log::Writing::writer_thread);
  } catch (const std::exception& e) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)) {  // a stop's SIGTERM also ended postconf
      std::cerr << "mxtls-policyd: stopping on a signal while starting\n";
      return 0;
    }
    std::cerr << "mxtls-policyd: " << e.what() << "\n";
    return kExitConfig;
  }
  if (options->check_config) {
    std::cout << "mxtls-policyd: configuration OK (profile " << profile_text(profile) << ", level " << level_name(profile.level) << ")\n";
    return 0;
  }

  // Before the io_context: connections leave the table when it destroys them.
  ConnectionTable connections({config.policy.max_connections, config.policy.max_connections_per_client});
  asio::io_context io(1);
  VerdictCache cache;
  try {
    // A store that had to be started anew gets the verdicts held in memory
    // (the cache lives on the io thread).
    StoreWriter writer(config.store, std::chrono::duration_cast<std::chrono::seconds>(config.store.history.value), [&] {
      asio::post(io, [&] { writer.restore(cache.to_store(level_name(profile.level))); });
    });
    try {
      if (config.store.backend != "none")
        log::info("store: " + describe_store(config.store) + ": " + std::to_string(load_cache(config.store, cache)) +
                  " verdicts loaded");
    } catch (const StoreError& e) {
      log::error(std::string(e.what()) + "; starting without the stored verdicts");
    }
    // A Redis store is shared by a fleet: one probe per destination across it.
    std::unique_ptr<Fleet> fleet;
    if (config.store.backend == "redis")
      fleet = std::make_unique<Fleet>(io, redis_target(config.store), std::string(level_name(profile.level)),
                                      std::chrono::duration_cast<std::chrono::milliseconds>(config.store.redis_lease.value));
    ProbeThread probes(io, config, profile);
    // The tlspolicy socketmap's MTA-STS lookups run on the probe thread (its
    // resolver); the answering thread keeps copies. An answer waits for a
    // first lookup at most as long as its TXT lookup and fetch may take.
    std::unique_ptr<StsPolicies> sts;
    if (probes.sts_enabled())
      sts = std::make_unique<StsPolicies>(
          io, probes, std::chrono::duration_cast<std::chrono::seconds>(config.mta_sts.recheck.value),
          std::chrono::duration_cast<std::chrono::milliseconds>(config.dns.timeout.value + config.mta_sts.fetch_timeout.value));
    MetricsEndpoint endpoint;
    DaemonMetrics metrics(endpoint.registry());
    if (!config.metrics.listen.empty()) endpoint.listen(config.metrics.listen, "metrics.listen");
    Scheduler scheduler(io, probes, profile, config.cache, cache, writer, metrics, fleet.get());
    PolicyService policy(cache, scheduler, settings, config.policy, profile, metrics);
    SocketmapService socketmap(cache, scheduler, settings, config.policy, profile, metrics, sts.get());
    start_listeners(io, policy_specs, socket_access, connections,
                    {[&](tcp::socket s, ConnectionSlot slot) { return policy.serve(std::move(s), std::move(slot)); },
                     [&](local_stream::socket s, ConnectionSlot slot) { return policy.serve(std::move(s), std::move(slot)); }},
                    "policy");
    start_listeners(io, socketmap_specs, socket_access, connections,
                    {[&](tcp::socket s, ConnectionSlot slot) { return socketmap.serve(std::move(s), std::move(slot)); },
                     [&](local_stream::socket s, ConnectionSlot slot) {
                       return socketmap.serve(std::move(s), std::move(slot));
                     }},
                    "socketmap");
    scheduler.start();
    MtaLogFollower feedback(io, config.feedback, cache, scheduler, metrics);
    feedback.start();

    RunningDaemon running{config, settings, policy, socketmap, scheduler, probes};
    const auto ready_text = [&] {
      return "profile " + profile_text(profile) + ", level " + std::string(level_name(profile.level)) + ", " +
             std::to_string(cache.size()) + " verdicts cached" + (settings.monitor ? ", monitor mode" : "") +
             (sts ? ", MTA-STS on" : "") + ", tlspolicy from " + running.config.policy.tlspolicy_source;
    };
    asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        systemd::reloading();
        reload(*options, running, cache);
        systemd::ready(ready_text());
        signals.async_wait(on_signal);
        return;
      }
      systemd::stopping();
      log::info("stopping on signal " + std::to_string(sig));
      io.stop();
    };
    signals.async_wait(on_signal);
    asio::steady_timer watchdog(io), metrics_timer(io);
    sample_metrics(metrics_timer, metrics, cache, scheduler, writer, fleet.get());
    if (const auto interval = systemd::watchdog_interval()) keep_watchdog_fed(watchdog, *interval);
    log::info("ready: " + ready_text());
    systemd::ready(ready_text());
    probes.start();  // with the start signals blocked: they are the answering thread's
    pthread_sigmask(SIG_UNBLOCK, &start_signals, nullptr);  // those that came while starting are handled now
    io.run();
    probes.stop();  // before anything it posts to goes
    log::flush();  // the writer thread's queue, sent while we are alive
    // journald names the unit of a syslog line by the sender's process:
    // gone too soon, and the last lines are missing from journalctl -u.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } catch (const ConfigError& e) {  // a socket's owner, group or mode the daemon's user may not apply
    log::error(std::string("fatal: ") + e.what());
    std::cerr << "mxtls-policyd: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
    std::cerr << "mxtls-policyd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
