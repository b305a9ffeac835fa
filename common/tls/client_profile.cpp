#include "tls/client_profile.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <map>

#include "tls/postfix_settings.h"
#include "tls/sendmail_profile.h"
#include "util/split.h"

namespace mxtls {
namespace {

constexpr std::array<std::string_view, 7> kLevelNames{"none", "may", "encrypt", "dane", "dane-only", "verify", "secure"};

// Postfix lists also separate by ':' (e.g. "nexthop:dot-nexthop").
std::vector<std::string> postfix_list(const std::string& s) { return split_list(s, " ,:\t"); }

SecurityLevel postfix_level(const std::string& value) {
  if (value.empty() || value == "none") return SecurityLevel::none;
  if (value == "fingerprint") return SecurityLevel::secure;
  if (auto l = level_from_name(value)) return *l;
  throw ProfileError("postfix: unsupported smtp_tls_security_level '" + value + "'");
}

// Postfix's cipher grade -> OpenSSL list, minus the exclusions (tls_misc.c).
std::string postfix_cipher_list(const std::map<std::string, std::string>& pf, const std::string& grade,
                                const std::string& exclusions) {
  const auto it = pf.find("tls_" + grade + "_cipherlist");
  if (it == pf.end()) throw ProfileError("postfix: unknown cipher grade '" + grade + "'");
  std::string list = it->second;
  for (const auto& x : postfix_list(exclusions)) list += ":!" + x;
  return list;
}

// A Postfix time value ("30s", "5m", a bare number is seconds), bounded.
std::chrono::milliseconds postfix_time(const std::map<std::string, std::string>& pf, const std::string& key) {
  const std::string& v = pf.at(key);
  std::size_t digits = 0;
  while (digits < v.size() && digits < 9 && v[digits] >= '0' && v[digits] <= '9') ++digits;
  const std::string unit = v.substr(digits);
  static const std::map<std::string, long> kSeconds{{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
  const auto u = kSeconds.find(unit);
  if (digits == 0 || u == kSeconds.end()) throw ProfileError("postfix: bad time value " + key + " = '" + v + "'");
  return std::chrono::seconds(std::stol(v.substr(0, digits)) * u->second);
}

// inet_protocols, smtp_address_preference, smtp_mx_address_limit and the timeouts (smtp_connect.c, smtp_addr.c).
MtaConnection postfix_connection(const std::map<std::string, std::string>& pf) {
  MtaConnection c;
  const auto protocols = postfix_list(pf.at("inet_protocols"));
  const bool all = std::find(protocols.begin(), protocols.end(), "all") != protocols.end();
  c.ipv4 = all || std::find(protocols.begin(), protocols.end(), "ipv4") != protocols.end();
  c.ipv6 = all || std::find(protocols.begin(), protocols.end(), "ipv6") != protocols.end();
  if (!c.ipv4 && !c.ipv6) throw ProfileError("postfix: inet_protocols = '" + pf.at("inet_protocols") + "' names no address family");
  const auto& preference = pf.at("smtp_address_preference");
  c.preference = preference == "ipv4" ? AddressPreference::ipv4 : preference == "ipv6" ? AddressPreference::ipv6 : AddressPreference::any;
  const auto& limit = pf.at("smtp_mx_address_limit");
  if (limit.empty() || limit.size() > 6 || limit.find_first_not_of("0123456789") != std::string::npos)
    throw ProfileError("postfix: bad smtp_mx_address_limit '" + limit + "'");
  c.address_limit = std::stoi(limit);
  c.balance_families = pf.at("smtp_balance_inet_protocols") == "yes";
  c.connect_timeout = postfix_time(pf, "smtp_connect_timeout");
  c.helo_timeout = postfix_time(pf, "smtp_helo_timeout");
  c.starttls_timeout = postfix_time(pf, "smtp_starttls_timeout");
  return c;
}

}  // namespace

// Declared in the header (mxtls report --what-if builds it from changed settings).
ClientProfile postfix_profile(const PostfixTlsSettings& settings, std::optional<SecurityLevel> configured_level) {
  const auto& pf = settings.values;
  ClientProfile p;
  p.name = "postfix";
  p.source = settings.source;
  p.level = configured_level ? *configured_level : postfix_level(pf.at("smtp_tls_security_level"));
  const bool mandatory = level_requires_tls(p.level);
  p.protocols_spec = pf.at(mandatory ? "smtp_tls_mandatory_protocols" : "smtp_tls_protocols");
  std::string exclusions = pf.at("smtp_tls_exclude_ciphers");
  if (mandatory) exclusions += " " + pf.at("smtp_tls_mandatory_exclude_ciphers");
  p.cipher_list = postfix_cipher_list(pf, pf.at(mandatory ? "smtp_tls_mandatory_ciphers" : "smtp_tls_ciphers"), exclusions);
  // Postfix sets OpenSSL security level 0 as "a base for opportunistic TLS"
  // (tls_client_init) and raises it to 1 for levels that match the peer
  // (TLS_MUST_MATCH in tls_client_start): at verify/secure TLSv1.0/1.1 and
  // SHA-1 handshake signatures fail under OpenSSL 3, 1024-bit RSA passes.
  p.openssl_security_level = level_authenticates(p.level) || level_is_dane(p.level) ? 1 : 0;
  p.may_protocols_spec = pf.at("smtp_tls_protocols");
  p.may_cipher_list = postfix_cipher_list(pf, pf.at("smtp_tls_ciphers"), pf.at("smtp_tls_exclude_ciphers"));
  p.unauthenticated_openssl_security_level = 0;
  // dane_init: DANE needs DNSSEC lookups (smtp_dns_support_level = dnssec)
  // and DNS host lookups; smtp_tls_dane_insecure_mx_policy (Postfix >= 3.6)
  // defaults to dane at level dane, may otherwise.
  p.dane_dnssec_lookups = pf.at("smtp_dns_support_level") == "dnssec" &&
                          pf.at("smtp_host_lookup").find("dns") != std::string::npos;
  const auto insecure_mx = pf.find("smtp_tls_dane_insecure_mx_policy");
  const std::string mx_policy = insecure_mx == pf.end() ? "may" : insecure_mx->second;
  p.dane_insecure_mx = mx_policy == "dane" ? SecurityLevel::dane : mx_policy == "encrypt" ? SecurityLevel::encrypt : SecurityLevel::may;
  if (const auto curves = pf.find("tls_eecdh_auto_curves"); curves != pf.end()) p.groups = curves->second;
  p.ca_file = pf.at("smtp_tls_CAfile");
  p.ca_path = pf.at("smtp_tls_CApath");
  if (pf.at("tls_append_default_CA") == "yes" && p.ca_file.empty() && p.ca_path.empty())
    p.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  const auto& servername = pf.at("smtp_tls_servername");
  p.send_sni = servername == "hostname";  // a fixed name is sent as-is by Postfix; rare for MX probing
  p.match = postfix_list(pf.at(p.level == SecurityLevel::verify ? "smtp_tls_verify_cert_match" : "smtp_tls_secure_cert_match"));
  const auto parsed = parse_protocols(p.protocols_spec);
  if (!parsed.versions) throw ProfileError("postfix: " + parsed.error);
  p.versions = *parsed.versions;
  const auto may_parsed = parse_protocols(p.may_protocols_spec);
  if (!may_parsed.versions) throw ProfileError("postfix: " + may_parsed.error);
  p.may_versions = *may_parsed.versions;
  p.connection = postfix_connection(pf);
  return p;
}

namespace {

ClientProfile custom_profile(const TlsConfig& config, std::optional<SecurityLevel> configured_level) {
  ClientProfile p;
  p.name = "custom";
  p.level = configured_level.value_or(SecurityLevel::may);
  p.protocols_spec = config.protocols;
  const auto parsed = parse_protocols(config.protocols);
  if (!parsed.versions) throw ProfileError("tls.protocols: " + parsed.error);
  p.versions = *parsed.versions;
  p.cipher_list = config.ciphers;
  p.openssl_security_level = config.openssl_security_level;
  p.ca_file = config.ca_file;
  p.ca_path = config.ca_path;
  p.send_sni = config.servername == "hostname";
  p.match = {"hostname"};
  p.may_protocols_spec = p.protocols_spec;
  p.may_versions = p.versions;
  p.may_cipher_list = p.cipher_list;
  p.unauthenticated_openssl_security_level = p.openssl_security_level;
  p.dane_insecure_mx = p.level == SecurityLevel::dane ? SecurityLevel::dane : SecurityLevel::may;  // Postfix's default
  // Postfix's address order and limits; shorter step timeouts than an MTA's
  // (no MTA to follow: the [probe] keys' documented fallbacks).
  p.connection.connect_timeout = std::chrono::seconds(5);
  p.connection.helo_timeout = std::chrono::seconds(10);
  p.connection.starttls_timeout = std::chrono::seconds(10);
  return p;
}

// The MTA this host has: Postfix when postconf can read its settings (a
// Postfix that is installed but not configured: its built-in defaults),
// else Sendmail when sendmail.cf exists, else a client with OpenSSL's
// defaults. Only "cannot read" moves on: a setting either MTA has wrong
// is an error, as with the profile named.
ClientProfile auto_profile(const TlsConfig& config, std::optional<SecurityLevel> level) {
  std::string why;
  std::optional<PostfixTlsSettings> settings;
  try {
    settings = read_postfix_tls_settings(config.postconf, config.postfix_config_dir);
  } catch (const ProfileError& e) {
    why = std::string("no Postfix (") + e.what() + ")";
  }
  if (settings) {
    ClientProfile p = postfix_profile(*settings, level);
    p.source = "auto: " + p.source;
    return p;
  }
  struct stat st {};
  if (stat(config.sendmail_cf.c_str(), &st) == 0) {
    ClientProfile p = sendmail_profile(config, level);
    p.source = "auto: " + why + "; " + p.source;
    return p;
  }
  return openssl_profile(level, "auto: " + why + "; no Sendmail (no " + config.sendmail_cf + ")");
}

}  // namespace

std::string_view level_name(SecurityLevel l) { return kLevelNames[static_cast<std::size_t>(l)]; }

std::optional<SecurityLevel> level_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name) return static_cast<SecurityLevel>(i);
  return std::nullopt;
}

ClientProfile effective_profile(const ClientProfile& profile, SecurityLevel effective) {
  if (!level_is_dane(profile.level)) return profile;
  ClientProfile p = profile;
  p.level = effective;
  if (effective == SecurityLevel::may) {
    p.protocols_spec = profile.may_protocols_spec;
    p.versions = profile.may_versions;
    p.cipher_list = profile.may_cipher_list;
  }
  if (effective == SecurityLevel::may || effective == SecurityLevel::encrypt)
    p.openssl_security_level = profile.unauthenticated_openssl_security_level;
  return p;
}

ClientProfile build_client_profile(const TlsConfig& config) {
  std::optional<SecurityLevel> level;
  if (!config.security_level.empty() && !(level = level_from_name(config.security_level)))
    throw ProfileError("tls.security_level: unknown level '" + config.security_level +
                       "' (expected none, may, encrypt, dane, dane-only, verify or secure)");
  if (config.profile == "postfix")
    return postfix_profile(read_postfix_tls_settings(config.postconf, config.postfix_config_dir), level);
  if (config.profile == "sendmail") return sendmail_profile(config, level);
  if (config.profile == "openssl") return openssl_profile(level, "");
  if (config.profile == "custom") return custom_profile(config, level);
  if (config.profile == "auto") return auto_profile(config, level);
  throw ProfileError("tls.profile: unknown profile '" + config.profile + "' (expected auto, postfix, sendmail, openssl or custom)");
}

}  // namespace mxtls
