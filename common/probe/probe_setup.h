// Start-up shared by the programs that probe (mxtls-policyd, `mxtls probe`):
// the client profile from [tls] (level, then profile), then logging from
// [log], in that order, so a bad configuration fails before anything runs
// or is logged. Not for the milter, which never probes.
#pragma once
#include <memory>
#include <string>

#include "config/config.h"
#include "dns/resolver.h"
#include "log/logger.h"
#include "sts/judge.h"
#include "sts/resolver.h"
#include "tls/client_profile.h"

namespace mxtls {

// Throws ProfileError or std::runtime_error naming the key (start-up error).
ClientProfile start_probe_side(const Config& config, const std::string& program, log::Writing writing);

// MTA-STS from [mta_sts]: the resolver (policy lookups and their cache;
// null when enabled = no) and how policies are judged: the profile our MTA
// uses under a policy (the configured one at the secure level: mandatory
// protocols and ciphers, security level 1) and whether it enforces them
// (enforce, or a tlspolicy_source that serves them). Throws like above.
struct StsSetup {
  std::unique_ptr<sts::StsResolver> resolver;
  sts::Judging judging;
};
StsSetup start_sts(asio::io_context& io, dns::Resolver& resolver, const Config& config);

}  // namespace mxtls
