// Start-up shared by the programs that probe (mxtls-policyd, `mxtls probe`):
// the client profile from [tls] (level, then profile), then logging from
// [log], in that order, so a bad configuration fails before anything runs
// or is logged. Not for the milter, which never probes.
#pragma once
#include <string>

#include "config/config.h"
#include "tls/client_profile.h"

namespace mxtls {

// Throws ProfileError or std::runtime_error naming the key (start-up error).
ClientProfile start_probe_side(const Config& config, const std::string& program);

}  // namespace mxtls
