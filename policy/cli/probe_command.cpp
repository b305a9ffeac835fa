// `mxtls probe`: probe destinations in parallel, classify under the compat
// profile, print a report (text or JSON) and exit with the worst verdict;
// with --store, record each verdict and its probe's facts as the daemon does.
#include <cstdio>
#include <ctime>
#include <iostream>

#include "classify/classifier.h"
#include "classify/probe_log.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/probe_report.h"
#include "config/config.h"
#include "dns/resolver.h"
#include "log/logger.h"
#include "probe/probe_setup.h"
#include "probe/prober.h"
#include "store/open_store.h"
#include "store/probe_record.h"
#include "util/async_sync.h"

namespace mxtls::cli {
namespace {

int exit_status_for(Severity s) {
  switch (s) {
    case Severity::ok: return kExitOk;
    case Severity::warning: return kExitWarning;
    case Severity::incompatible: return kExitIncompatible;
    case Severity::unreachable: return kExitUnreachable;
  }
  return kExitUnreachable;
}

struct ProbeOptions {
  std::string config_path = kDefaultConfigPath;
  std::string profile, level, dns;
  int port = 0;
  std::string timeout;
  bool allow_private = false, json = false, no_survey = false, verbose = false, no_sts = false, store = false;
  std::string survey = "always";
  std::string sts_ca;
  std::vector<std::string> targets;
};

// Applies command-line overrides on top of the file's configuration.
void apply_overrides(Config& config, const ProbeOptions& o) {
  if (!o.profile.empty()) config.tls.profile = o.profile;
  if (!o.level.empty()) config.tls.security_level = o.level;
  if (!o.dns.empty()) config.dns.forwarder = o.dns;
  if (o.port) config.probe.port = o.port;
  if (o.allow_private) config.probe.allow_private_targets = true;
  // The report explains every destination: the full survey unless told otherwise.
  if (o.survey != "always" && o.survey != "on-failure" && o.survey != "no")
    throw ConfigError("--survey: '" + o.survey + "' is not always, on-failure or no");
  config.probe.survey = o.no_survey ? "no" : o.survey;
  if (o.no_sts) config.mta_sts.enabled = false;
  if (!o.sts_ca.empty()) config.mta_sts.ca_file = o.sts_ca;
  if (!o.timeout.empty()) {
    const auto d = parse_duration(o.timeout);
    if (!d) throw ConfigError("--timeout: bad duration '" + o.timeout + "' (e.g. 10s, 500ms)");
    config.probe.destination_timeout = *d;
  }
  config.log.target = o.verbose ? "stderr" : "none";
  config.log.level = "info";
}

// --store: what the daemon writes after a probe (engine/scheduler.cpp): the
// verdict with the probe's facts for `mxtls report --what-if`, and a history
// record; a transport failure, which says nothing lasting about TLS, only
// the record (store/probe_record.h).
void store_probe(VerdictStore& store, const CacheConfig& cache, const DestinationProbe& probe,
                 const DestinationVerdict& verdict, const ClientProfile& profile) {
  StoredVerdict v = stored_verdict(probe, verdict, profile, std::time(nullptr));
  v.expires_at = expiry_of(v, cache);
  const bool is_verdict = cacheable(v);
  store.write(is_verdict ? std::vector<StoredVerdict>{v} : std::vector<StoredVerdict>{}, {history_record(v)});
}

// One destination, once it holds one of the slots: a destination's
// deadline runs from its start, so waiting behind a long list of others
// for a connection must not count against it. As many destinations at once
// as connections ([probe] concurrency): each in flight can have one.
asio::awaitable<void> probe_into(Prober& prober, AsyncSemaphore& slots, Target target, DestinationProbe& out) {
  co_await slots.acquire();
  const Permit slot(slots);
  out = co_await prober.probe(target);
}

}  // namespace

int probe_command(const std::vector<std::string>& args) {
  ProbeOptions o;
  CommandLine line{"mxtls probe",
                   po::options_description("mxtls probe [OPTIONS] TARGET...\n\n"
                                           "TARGET is a mail domain (MX lookup) or [host]:port (no MX lookup).\n"
                                           "Exit status: 0 ok, 1 warnings, 2 incompatible, 3 could not probe,\n"
                                           "64 usage error, 78 configuration error.\n\nOptions"),
                   "target", &o.targets};
  line.visible.add_options()
      ("help,h", "show this help")
      ("config,c", po::value(&o.config_path), "configuration file (default /etc/mxtls/mxtls.conf; missing is fine)")
      ("profile", po::value(&o.profile), "compat profile: auto (default: postfix, else sendmail, else openssl), postfix (postconf), sendmail (sendmail.cf), openssl (library defaults) or custom ([tls] keys)")
      ("security-level", po::value(&o.level), "judge under this level: none, may, encrypt, dane, dane-only, verify, secure")
      ("dns", po::value(&o.dns), "DNS server to forward to, e.g. 127.0.0.1@5353")
      ("port", po::value(&o.port), "SMTP port (default 25)")
      ("allow-private-targets", po::bool_switch(&o.allow_private), "probe loopback/private addresses too")
      ("timeout", po::value(&o.timeout), "overall deadline per destination, e.g. 30s")
      ("survey", po::value(&o.survey), "when to make the survey handshakes: always (default), on-failure (as mxtls-policyd does by default: when the compat handshake fails, is anonymous or finds a certificate problem) or no")
      ("no-survey", po::bool_switch(&o.no_survey), "skip the survey handshakes (--survey no)")
      ("no-mta-sts", po::bool_switch(&o.no_sts), "do not look up MTA-STS policies")
      ("mta-sts-ca-file", po::value(&o.sts_ca), "trust anchors for fetching MTA-STS policies (PEM file)")
      ("json", po::bool_switch(&o.json), "print one JSON document instead of the report")
      ("store", po::bool_switch(&o.store), "record each verdict and its probe's facts in the [store] (created if missing), as mxtls-policyd does, for mxtls report --what-if")
      ("verbose,v", po::bool_switch(&o.verbose), "log one probe line per MX host to stderr");
  po::variables_map vm;
  if (const auto stop = parse_command_line(line, args, vm)) return *stop;
  if (o.targets.empty()) return usage_error(line, "no TARGET given");
  std::vector<Target> targets;
  for (const auto& t : o.targets) {
    auto parsed = parse_target(t);
    if (!parsed.target) {
      std::cerr << "mxtls probe: " << parsed.error << "\n";
      return kExitUsage;
    }
    targets.push_back(*parsed.target);
  }

  Config config;
  ClientProfile profile;
  asio::io_context io;
  std::unique_ptr<dns::Resolver> resolver;
  std::unique_ptr<Prober> prober;
  StsSetup sts;
  std::unique_ptr<VerdictStore> store;
  try {
    config = load_config(o.config_path, !vm.count("config"));
    apply_overrides(config, o);
    profile = start_probe_side(config, "mxtls", log::Writing::in_caller);
    resolver = std::make_unique<dns::Resolver>(io, config.dns);
    prober = std::make_unique<Prober>(io, config.probe, profile, *resolver);
    sts = start_sts(io, *resolver, config);
    if (sts.resolver) prober->enable_sts(*sts.resolver, sts.judging.profile);
    if (o.store && !(store = open_store(config.store, StoreAccess::create)))
      throw ConfigError("--store: [store] backend is none");
  } catch (const std::exception& e) {
    std::cerr << "mxtls probe: " << e.what() << "\n";
    return kExitConfig;
  }

  std::vector<DestinationProbe> results(targets.size());
  std::vector<bool> failed(targets.size());
  int status = kExitOk;
  WaitGroup all(io.get_executor());
  AsyncSemaphore slots(io.get_executor(), config.probe.concurrency);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    all.spawn(probe_into(*prober, slots, targets[i], results[i]), [&, i](const std::string& error) {
      std::cerr << "mxtls probe: " << o.targets[i] << ": internal error: " << error << "\n";
      failed[i] = true;
      status = kExitUnreachable;
    });
  }
  io.run();

  Json json = Json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (failed[i]) continue;
    const auto& probe = results[i];
    auto verdict = classify_destination(probe, profile);
    if (sts.resolver) sts::apply_sts(probe, verdict, sts.judging);
    if (store) {
      try {
        store_probe(*store, config.cache, probe, verdict, profile);
      } catch (const StoreError& e) {
        std::cerr << "mxtls probe: " << e.what() << "\n";
        status = std::max(status, kExitConfig);
      }
    }
    for (const auto& text : format_probe_lines(probe, verdict, profile)) log::info(text);
    if (o.json) json.push_back(render_json_report(probe, verdict, profile));
    else std::cout << render_text_report(probe, verdict, profile) << (results.size() > 1 ? "\n" : "");
    status = std::max(status, exit_status_for(verdict.overall.severity));
  }
  // One destination: its document; several: an array of them.
  if (o.json) std::cout << to_json_text(results.size() > 1 || json.empty() ? json : json.front()) << "\n";
  return status;
}

}  // namespace mxtls::cli
