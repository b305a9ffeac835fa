#include "probe/probe_setup.h"

#include "log/logger.h"

namespace mxtls {

ClientProfile start_probe_side(const Config& config, const std::string& program, log::Writing writing) {
  ClientProfile profile = build_client_profile(config.tls);
  profile.expiry_warning = std::chrono::duration_cast<std::chrono::seconds>(config.probe.expiry_warning.value);
  log::init({config.log.target, config.log.facility, program, config.log.level, writing});
  log::info("profile " + profile.name + " (" + (config.tls.profile == "auto" ? "" : "configured; ") + profile.source + ")");
  if (level_is_dane(profile.level) && config.dns.trust_anchor.empty())
    log::warning("security level " + std::string(level_name(profile.level)) +
                 " without [dns] trust_anchor: no DNSSEC validation, so no TLSA record counts; judged as Postfix does "
                 "without DNSSEC (" + (profile.level == SecurityLevel::dane ? "as may" : "every destination deferred") + ")");
  if (level_is_dane(profile.level) && !profile.dane_dnssec_lookups)
    log::warning("security level " + std::string(level_name(profile.level)) +
                 " but Postfix has smtp_dns_support_level != dnssec: Postfix does no DANE, and mxtls judges as it does");
  return profile;
}

StsSetup start_sts(asio::io_context& io, dns::Resolver& resolver, const Config& config) {
  StsSetup out;
  const bool serves = config.policy.tlspolicy_source != "probes";
  if (!config.mta_sts.enabled && !serves) return out;
  TlsConfig secure = config.tls;
  secure.security_level = "secure";
  out.judging.profile = build_client_profile(secure);
  out.judging.enforced = config.mta_sts.enforce || serves;
  sts::ResolverSettings settings;
  settings.fetch.timeout = config.mta_sts.fetch_timeout.value;
  settings.fetch.allow_private_targets = config.probe.allow_private_targets;
  settings.fetch.ca_file = config.mta_sts.ca_file;
  settings.recheck_seconds = std::chrono::duration_cast<std::chrono::seconds>(config.mta_sts.recheck.value).count();
  out.resolver = std::make_unique<sts::StsResolver>(io, resolver, settings);
  return out;
}

}  // namespace mxtls
