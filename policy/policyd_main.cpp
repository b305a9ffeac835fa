// mxtls-policyd: the engine daemon. Postfix policy delegation server and
// socketmap server answering from cached TLS verdicts; probes unknown and
// expiring destinations in the background; persists verdicts in the store.
// One io_context thread serves everything; the store writes on its own thread.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "config/config.h"
#include "config/daemon_options.h"
#include "config/socket_access.h"
#include "dns/resolver.h"
#include "engine/decision.h"
#include "engine/scheduler.h"
#include "engine/store_writer.h"
#include "engine/verdict_cache.h"
#include "log/logger.h"
#include "probe/probe_setup.h"
#include "probe/prober.h"
#include "server/listen.h"
#include "server/policy_service.h"
#include "server/socketmap_service.h"
#include "store/open_store.h"

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

}  // namespace

int main(int argc, char** argv) {
  // Until the io_context can take them, stop and reload signals wait
  // (blocked here, in every thread started from here and in postconf): a
  // stop while starting exits 0 once started, a reload is then applied.
  sigset_t start_signals;
  sigemptyset(&start_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&start_signals, sig);
  pthread_sigmask(SIG_BLOCK, &start_signals, nullptr);

  int exit_status = 0;
  const auto options = parse_daemon_options(argc, argv, "mxtls-policyd",
                                            "Postfix policy and socketmap server for TLS verdicts.", exit_status);
  if (!options) return exit_status;

  Config config;
  ClientProfile profile;
  PolicySettings settings;
  std::vector<SocketAddress> policy_specs, socketmap_specs;
  SocketPermissions socket_permissions;
  try {
    config = load_config(options->config_path, !options->config_given);
    if (!options->log_target.empty()) config.log.target = options->log_target;
    settings = build_policy_settings(config.policy);
    relayhost_key(config.policy.relayhost);  // validates it
    policy_specs = parse_listen_specs(config.policy.listen, "policy.listen");
    socketmap_specs = parse_listen_specs(config.policy.socketmap_listen, "policy.socketmap_listen");
    if (policy_specs.empty() && socketmap_specs.empty()) throw ConfigError("policy.listen and policy.socketmap_listen are both empty");
    check_store_config(config.store);
    socket_permissions = resolve_socket_access(config.policy.socket_owner, config.policy.socket_group,
                                               config.policy.socket_mode, "policy.");
    profile = start_probe_side(config, "mxtls-policyd");
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
    dns::Resolver resolver(io, config.dns);
    Prober prober(io, config.probe, profile, resolver);
    StsSetup sts = start_sts(io, resolver, config);
    if (sts.resolver) prober.enable_sts(*sts.resolver, sts.judging.profile);
    Scheduler scheduler(io, prober, profile, config.cache, cache, writer, sts.resolver ? &sts.judging : nullptr);
    PolicyService policy(cache, scheduler, settings, config.policy, profile);
    SocketmapService socketmap(cache, scheduler, settings, config.policy, profile, sts.resolver.get());
    ConnectionBudget budget{0, config.policy.max_connections};
    start_listeners(io, policy_specs, socket_permissions, budget,
                    {[&](tcp::socket s) { return policy.serve(std::move(s)); },
                     [&](local_stream::socket s) { return policy.serve(std::move(s)); }},
                    "policy");
    start_listeners(io, socketmap_specs, socket_permissions, budget,
                    {[&](tcp::socket s) { return socketmap.serve(std::move(s)); },
                     [&](local_stream::socket s) { return socketmap.serve(std::move(s)); }},
                    "socketmap");
    scheduler.start();

    asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        // `mxtls cache forget/flush` edit the store; a reload makes them count here.
        cache.clear();
        try {
          log::info("reload: " + std::to_string(load_cache(config.store, cache)) + " verdicts loaded from the store");
        } catch (const StoreError& e) {
          log::error(std::string("reload: ") + e.what());
        }
        signals.async_wait(on_signal);
        return;
      }
      log::info("stopping on signal " + std::to_string(sig));
      io.stop();
    };
    signals.async_wait(on_signal);
    log::info("ready: profile " + profile_text(profile) + ", level " + std::string(level_name(profile.level)) + ", " +
              std::to_string(cache.size()) + " verdicts cached" + (settings.monitor ? ", monitor mode" : "") +
              (sts.resolver ? ", MTA-STS on" : "") + ", tlspolicy from " + config.policy.tlspolicy_source);
    pthread_sigmask(SIG_UNBLOCK, &start_signals, nullptr);  // those that came while starting are handled now
    io.run();
    // journald names the unit of a syslog line by the sender's process:
    // gone too soon, and the last lines are missing from journalctl -u.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
    std::cerr << "mxtls-policyd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
