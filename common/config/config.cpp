#include "config/config.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "config/ini.h"

namespace po = boost::program_options;

namespace mxtls {

// Lets Program_options read "5s", "500ms" into a Duration.
void validate(boost::any& out, const std::vector<std::string>& values, Duration*, int) {
  po::validators::check_first_occurrence(out);
  const auto& text = po::validators::get_single_string(values);
  const auto d = parse_duration(text);
  if (!d) throw po::invalid_option_value(text);
  out = *d;
}

// An optional time: empty ("key =") leaves it unset.
void validate(boost::any& out, const std::vector<std::string>& values, std::optional<Duration>*, int) {
  po::validators::check_first_occurrence(out);
  const auto& text = po::validators::get_single_string(values);
  if (text.empty()) {
    out = std::optional<Duration>();
    return;
  }
  const auto d = parse_duration(text);
  if (!d) throw po::invalid_option_value(text);
  out = std::optional<Duration>(*d);
}

namespace {

template <typename T>
auto bounded(T* field, T lo, T hi, const char* name) {
  return po::value<T>(field)->notifier([lo, hi, name](T v) {
    if (v < lo || v > hi)
      throw po::error(std::string("'") + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  });
}

void check_one_of(const std::string& v, const std::set<std::string>& allowed, const char* name) {
  if (allowed.count(v) == 0) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + (a.empty() ? "(empty)" : a);
    throw po::error(std::string("'") + name + "' must be one of: " + list);
  }
}

template <typename T>
auto one_of(T* field, std::set<std::string> allowed, const char* name) {
  return po::value<T>(field)->notifier([allowed, name](const std::string& v) { check_one_of(v, allowed, name); });
}

po::options_description describe(Config& c) {
  po::options_description d("mxtls.conf");
  d.add_options()
      ("probe.allow_private_targets", po::value(&c.probe.allow_private_targets))
      ("probe.max_mx_hosts", bounded(&c.probe.max_mx_hosts, 1, 10, "probe.max_mx_hosts"))
      ("probe.concurrency", bounded(&c.probe.concurrency, 1, 10000, "probe.concurrency"))
      ("probe.connections_per_address", bounded(&c.probe.connections_per_address, 1, 100, "probe.connections_per_address"))
      ("probe.port", bounded(&c.probe.port, 1, 65535, "probe.port"))
      ("probe.helo_name", po::value(&c.probe.helo_name))
      ("probe.connect_timeout", po::value(&c.probe.connect_timeout))
      ("probe.greeting_timeout", po::value(&c.probe.greeting_timeout))
      ("probe.command_timeout", po::value(&c.probe.command_timeout))
      ("probe.handshake_timeout", po::value(&c.probe.handshake_timeout))
      ("probe.destination_timeout", po::value(&c.probe.destination_timeout))
      // "yes" was the boolean this key took before it had three values: it
      // meant "always", and a configuration written then keeps working.
      ("probe.survey", po::value(&c.probe.survey)->notifier([&c](const std::string& v) {
         check_one_of(v, {"on-failure", "always", "no", "yes"}, "probe.survey");
         if (v == "yes") c.probe.survey = "always";
       }))
      ("probe.expiry_warning", po::value(&c.probe.expiry_warning))
      ("dns.forwarder", po::value(&c.dns.forwarder))
      ("dns.transparent_zones", po::value(&c.dns.transparent_zones))
      ("dns.timeout", po::value(&c.dns.timeout))
      ("dns.trust_anchor", po::value(&c.dns.trust_anchor))
      ("tls.profile", one_of(&c.tls.profile, {"auto", "postfix", "sendmail", "openssl", "custom"}, "tls.profile"))
      ("tls.security_level", one_of(&c.tls.security_level, {"", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"}, "tls.security_level"))
      ("tls.protocols", po::value(&c.tls.protocols))
      ("tls.ciphers", po::value(&c.tls.ciphers))
      ("tls.openssl_security_level", bounded(&c.tls.openssl_security_level, 0, 5, "tls.openssl_security_level"))
      ("tls.ca_file", po::value(&c.tls.ca_file))
      ("tls.ca_path", po::value(&c.tls.ca_path))
      ("tls.servername", po::value(&c.tls.servername))
      ("tls.postconf", po::value(&c.tls.postconf))
      ("tls.postfix_config_dir", po::value(&c.tls.postfix_config_dir))
      ("tls.sendmail_cf", po::value(&c.tls.sendmail_cf))
      ("tls.sendmail_access", po::value(&c.tls.sendmail_access))
      ("policy.listen", po::value(&c.policy.listen))
      ("policy.socketmap_listen", po::value(&c.policy.socketmap_listen))
      ("policy.socket_owner", po::value(&c.policy.socket_owner))
      ("policy.socket_group", po::value(&c.policy.socket_group))
      ("policy.socket_mode", po::value(&c.policy.socket_mode))
      ("policy.max_connections", bounded(&c.policy.max_connections, 1, 100000, "policy.max_connections"))
      ("policy.max_connections_per_client",
       bounded(&c.policy.max_connections_per_client, 1, 100000, "policy.max_connections_per_client"))
      ("policy.first_request_timeout", po::value(&c.policy.first_request_timeout))
      ("policy.idle_timeout", po::value(&c.policy.idle_timeout))
      ("policy.unknown_wait", po::value(&c.policy.unknown_wait))
      ("policy.monitor", po::value(&c.policy.monitor))
      ("policy.on_warning", po::value(&c.policy.on_warning))
      ("policy.on_plaintext", po::value(&c.policy.on_plaintext))
      ("policy.on_plaintext_after_delay", po::value(&c.policy.on_plaintext_after_delay))
      ("policy.on_deferred", po::value(&c.policy.on_deferred))
      ("policy.reason_actions", po::value(&c.policy.reason_actions))
      ("policy.domain_actions", po::value(&c.policy.domain_actions))
      ("policy.reroute", po::value(&c.policy.reroute))
      ("policy.relayhost", po::value(&c.policy.relayhost))
      ("policy.defer_status", po::value(&c.policy.defer_status))
      ("policy.header", po::value(&c.policy.header))
      ("policy.mailertable_reroute", po::value(&c.policy.mailertable_reroute))
      ("policy.tlspolicy_sni_fix", po::value(&c.policy.tlspolicy_sni_fix))
      ("policy.tlspolicy_relax_certificates", po::value(&c.policy.tlspolicy_relax_certificates))
      ("policy.tlspolicy_relax_protocols", po::value(&c.policy.tlspolicy_relax_protocols))
      ("policy.tlspolicy_source", one_of(&c.policy.tlspolicy_source, {"probes", "dane-sts", "both"}, "policy.tlspolicy_source"))
      ("policy.tlspolicy_tlsrpt", po::value(&c.policy.tlspolicy_tlsrpt))
      ("mta_sts.enabled", po::value(&c.mta_sts.enabled))
      ("mta_sts.enforce", po::value(&c.mta_sts.enforce))
      ("mta_sts.ca_file", po::value(&c.mta_sts.ca_file))
      ("mta_sts.fetch_timeout", po::value(&c.mta_sts.fetch_timeout))
      ("mta_sts.recheck", po::value(&c.mta_sts.recheck))
      ("cache.ttl_ok", po::value(&c.cache.ttl_ok))
      ("cache.ttl_warning", po::value(&c.cache.ttl_warning))
      ("cache.ttl_incompatible", po::value(&c.cache.ttl_incompatible))
      ("cache.refresh_margin", po::value(&c.cache.refresh_margin))
      ("cache.backoff_min", po::value(&c.cache.backoff_min))
      ("cache.backoff_max", po::value(&c.cache.backoff_max))
      ("cache.max_queue", bounded(&c.cache.max_queue, 1, 10000000, "cache.max_queue"))
      ("cache.max_parallel", bounded(&c.cache.max_parallel, 1, 10000, "cache.max_parallel"))
      ("store.backend", one_of(&c.store.backend, {"sqlite", "redis", "none"}, "store.backend"))
      ("store.path", po::value(&c.store.path))
      ("store.history", po::value(&c.store.history))
      ("store.redis", po::value(&c.store.redis))
      ("store.redis_password_file", po::value(&c.store.redis_password_file))
      ("store.redis_database", bounded(&c.store.redis_database, 0, 15, "store.redis_database"))
      ("store.redis_prefix", po::value(&c.store.redis_prefix))
      ("store.redis_sentinels", po::value(&c.store.redis_sentinels))
      ("store.redis_sentinel_master", po::value(&c.store.redis_sentinel_master))
      ("store.redis_timeout", po::value(&c.store.redis_timeout))
      ("store.redis_lease", po::value(&c.store.redis_lease))
      ("milter.socket", po::value(&c.milter.socket))
      ("milter.socket_owner", po::value(&c.milter.socket_owner))
      ("milter.socket_group", po::value(&c.milter.socket_group))
      ("milter.socket_mode", po::value(&c.milter.socket_mode))
      ("milter.engine", po::value(&c.milter.engine))
      ("milter.engine_timeout", po::value(&c.milter.engine_timeout))
      ("milter.on_engine_failure", one_of(&c.milter.on_engine_failure, {"accept", "tempfail"}, "milter.on_engine_failure"))
      ("milter.defer_recipients", po::value(&c.milter.defer_recipients))
      ("milter.inspect", po::value(&c.milter.inspect))
      ("milter.networks", po::value(&c.milter.networks))
      ("milter.header", po::value(&c.milter.header))
      ("milter.verdict_cache", po::value(&c.milter.verdict_cache))
      ("log.target", po::value(&c.log.target))
      ("metrics.listen", po::value(&c.metrics.listen))
      ("metrics.milter_listen", po::value(&c.metrics.milter_listen))
      ("log.facility", po::value(&c.log.facility))
      ("log.level", one_of(&c.log.level, {"debug", "info", "warning", "error"}, "log.level"))
      ("feedback.mta_log", po::value(&c.feedback.mta_log))
      ("feedback.reprobe_interval", po::value(&c.feedback.reprobe_interval))
      ("feedback.poll_interval", po::value(&c.feedback.poll_interval));
  return d;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& origin) {
  auto tokens = ini::parse(text);
  if (const auto* err = std::get_if<ini::Error>(&tokens))
    throw ConfigError(origin + ":" + std::to_string(err->line) + ": " + err->message);

  Config config;
  const auto desc = describe(config);
  po::variables_map vm;
  for (const auto& entry : std::get<std::vector<ini::Entry>>(tokens)) {
    const std::string name = entry.section + "." + entry.key;
    const std::string where = origin + ":" + std::to_string(entry.line) + ": ";
    if (entry.section.empty()) throw ConfigError(where + "key '" + entry.key + "' outside any [section]");
    if (!desc.find_nothrow(name, false)) throw ConfigError(where + "unknown key '" + entry.key + "' in [" + entry.section + "]");
    if (vm.count(name)) throw ConfigError(where + "'" + name + "' set twice");
    po::parsed_options one(&desc);
    one.options.emplace_back(name, std::vector<std::string>{entry.value});
    try {
      po::store(one, vm);
      po::notify(vm);
    } catch (const po::error& e) {
      throw ConfigError(where + "bad value '" + entry.value + "' for '" + name + "': " + e.what());
    }
  }
  return config;
}

std::vector<std::string> config_keys() {
  Config scratch;
  std::vector<std::string> keys;
  const auto desc = describe(scratch);
  for (const auto& option : desc.options()) keys.push_back(option->long_name());
  return keys;
}

Config load_config(const std::filesystem::path& path, bool allow_missing) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (allow_missing && !std::filesystem::exists(path)) return Config{};
    throw ConfigError(path.string() + ": cannot read configuration file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

}  // namespace mxtls
