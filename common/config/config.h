// mxtls configuration: one struct with a member per key of mxtls.conf, loaded
// from an INI file through Boost.Program_options. Defaults live here and are
// documented once in conf/mxtls.conf; a unit test checks that both agree.
// Bad files are start-up errors (ConfigError) naming file, line and key.
#pragma once
#include <filesystem>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "config/duration.h"

namespace mxtls {

struct ProbeConfig {
  bool allow_private_targets = false;
  int max_mx_hosts = 3;
  int concurrency = 100;
  int connections_per_address = 2;
  int port = 25;
  std::string helo_name;  // empty: this host's name
  // Step deadlines; empty: the MTA's own (ClientProfile::connection), so a
  // probe waits exactly as long as our MTA would (probe/step_timeouts.h).
  std::optional<Duration> connect_timeout;
  std::optional<Duration> greeting_timeout;
  std::optional<Duration> command_timeout;
  std::optional<Duration> handshake_timeout;
  Duration destination_timeout{std::chrono::seconds(30)};
  // When the survey handshakes run: on-failure (the compat handshake failed,
  // or its certificate has a finding the survey's other-SNI view explains),
  // always, or no.
  std::string survey = "on-failure";
  // A TLSA record that matches only a certificate expiring within this is a
  // warning: the next rotation breaks DANE delivery unless the records change.
  Duration expiry_warning{std::chrono::hours(24 * 14)};
  friend bool operator==(const ProbeConfig&, const ProbeConfig&) = default;
};

struct DnsConfig {
  std::string forwarder;          // empty: the servers in /etc/resolv.conf
  std::string transparent_zones;  // space/comma list of zones answered by the forwarder, e.g. "test."
  Duration timeout{std::chrono::seconds(5)};
  // DNSSEC trust anchors (a file of DS/DNSKEY records, e.g. Debian's
  // /usr/share/dns/root.key). Empty: no validation, every answer is
  // insecure, and DANE is judged as Postfix does without DNSSEC.
  std::string trust_anchor;
  friend bool operator==(const DnsConfig&, const DnsConfig&) = default;
};

struct TlsConfig {
  std::string profile = "auto";     // auto | postfix | sendmail | openssl | custom
  std::string security_level;       // empty: the profile's (Postfix: smtp_tls_security_level)
  std::string protocols = ">=TLSv1.2";
  std::string ciphers = "DEFAULT";
  int openssl_security_level = 2;
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::string ca_path;
  std::string servername = "hostname";
  std::string postconf = "/usr/sbin/postconf";
  std::string postfix_config_dir;   // empty: Postfix's default
  std::string sendmail_cf = "/etc/mail/sendmail.cf";
  std::string sendmail_access;      // access map text source; empty: the one sendmail.cf names
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

struct PolicyConfig {
  std::string listen = "inet:127.0.0.1:10045";              // space-separated list
  std::string socketmap_listen = "inet:127.0.0.1:10046";
  std::string socket_owner;   // empty: the daemon's user
  std::string socket_group;
  std::string socket_mode = "0660";
  int max_connections = 1000;
  int max_connections_per_client = 250;  // per client address, on inet listeners
  Duration first_request_timeout{std::chrono::seconds(5)};
  Duration idle_timeout{std::chrono::seconds(300)};
  Duration unknown_wait{std::chrono::milliseconds(0)};
  bool monitor = false;
  std::string on_warning = "dunno";
  std::string on_plaintext = "dunno";
  std::string on_plaintext_after_delay = "warn";
  std::string on_deferred = "defer";
  std::string reason_actions;   // "reason:action ..." overrides
  std::string domain_actions;   // "domain:action ..." overrides, win over all
  std::string reroute;          // FILTER/transport target, e.g. relay:[relay.example]:25
  std::string relayhost;        // judge this next hop instead of recipient domains, e.g. [smarthost.example]:587
  std::string defer_status = "4.7.5";
  std::string header = "X-MXTLS";
  std::string mailertable_reroute;  // Sendmail mailertable value for reroute, e.g. esmtp:[relay.example]
  bool tlspolicy_sni_fix = true;
  bool tlspolicy_relax_certificates = false;
  bool tlspolicy_relax_protocols = false;
  std::string tlspolicy_source = "probes";  // probes | dane-sts | both
  bool tlspolicy_tlsrpt = false;            // Postfix >= 3.10 TLSRPT attributes in MTA-STS answers
  friend bool operator==(const PolicyConfig&, const PolicyConfig&) = default;
};

struct MtaStsConfig {
  bool enabled = true;                // look policies up for probed domains
  bool enforce = true;                // our MTA enforces them (verdicts: deferred, not warnings)
  std::string ca_file;                // trust anchors of the policy fetch; empty: the system's
  Duration fetch_timeout{std::chrono::seconds(10)};
  Duration recheck{std::chrono::minutes(5)};  // tlspolicy map: TXT re-checked after this
  friend bool operator==(const MtaStsConfig&, const MtaStsConfig&) = default;
};

struct CacheConfig {
  Duration ttl_ok{std::chrono::hours(24)};
  Duration ttl_warning{std::chrono::hours(24)};
  Duration ttl_incompatible{std::chrono::hours(6)};
  Duration refresh_margin{std::chrono::minutes(30)};
  Duration backoff_min{std::chrono::minutes(5)};
  Duration backoff_max{std::chrono::hours(6)};
  int max_queue = 10000;
  int max_parallel = 50;
  friend bool operator==(const CacheConfig&, const CacheConfig&) = default;
};

struct StoreConfig {
  std::string backend = "sqlite";
  std::string path = "/var/lib/mxtls/cache.db";
  Duration history{std::chrono::hours(24 * 30)};  // probe history kept for `mxtls report`
  std::string redis = "inet:127.0.0.1:6379";      // backend redis: unix:/path or inet:ADDRESS:PORT
  std::string redis_password_file;                 // empty: no AUTH
  int redis_database = 0;
  std::string redis_prefix = "mxtls:";
  std::string redis_sentinels;                     // space-separated host:port; set: ask them for the master
  std::string redis_sentinel_master = "mymaster";
  Duration redis_timeout{std::chrono::seconds(2)};
  Duration redis_lease{std::chrono::seconds(60)};    // a fleet's probe of one destination: others wait this long at most
  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

struct MilterConfig {
  std::string socket = "inet:10047@127.0.0.1";          // libmilter syntax: unix:/path, inet:PORT@HOST
  std::string socket_owner;
  std::string socket_group;
  std::string socket_mode = "0660";
  std::string engine = "inet:127.0.0.1:10045";          // where mxtls-policyd listens
  Duration engine_timeout{std::chrono::seconds(2)};
  std::string on_engine_failure = "accept";            // accept | tempfail
  bool defer_recipients = true;                        // no: annotate only, the MTA does not wait at RCPT
  std::string inspect = "authenticated networks";      // all | authenticated | networks (any combination)
  std::string networks = "127.0.0.0/8 ::1/128";
  bool header = true;
  Duration verdict_cache{std::chrono::seconds(10)};   // 0: ask the engine for every message
  friend bool operator==(const MilterConfig&, const MilterConfig&) = default;
};

struct MetricsConfig {
  std::string listen;         // mxtls-policyd's Prometheus endpoint, inet:ADDRESS:PORT; empty: none
  std::string milter_listen;  // mxtls-milter's
  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

// mxtls-policyd following the MTA's log (policy/engine/feedback.h).
struct FeedbackConfig {
  std::string mta_log;                                     // the MTA's log file; empty: not followed
  Duration reprobe_interval{std::chrono::minutes(10)};     // one re-probe per destination per this much
  Duration poll_interval{std::chrono::seconds(1)};         // how often the file is read on
  friend bool operator==(const FeedbackConfig&, const FeedbackConfig&) = default;
};

struct LogConfig {
  std::string target = "syslog";
  std::string facility = "mail";
  std::string level = "info";
  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct Config {
  ProbeConfig probe;
  DnsConfig dns;
  TlsConfig tls;
  PolicyConfig policy;
  MtaStsConfig mta_sts;
  CacheConfig cache;
  StoreConfig store;
  MilterConfig milter;
  MetricsConfig metrics;
  LogConfig log;
  FeedbackConfig feedback;
  friend bool operator==(const Config&, const Config&) = default;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kDefaultConfigPath = "/etc/mxtls/mxtls.conf";

// Parses INI text; `origin` names the file in error messages.
Config parse_config(std::string_view text, const std::string& origin);
// Every key the configuration knows, as "section.key" (for documentation checks).
std::vector<std::string> config_keys();
// Reads and parses a file. A missing file is an error unless allow_missing.
Config load_config(const std::filesystem::path& path, bool allow_missing);

}  // namespace mxtls
