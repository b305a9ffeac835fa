#include "probe/probe_setup.h"

#include "log/logger.h"

namespace mxtls {

ClientProfile start_probe_side(const Config& config, const std::string& program) {
  ClientProfile profile = build_client_profile(config.tls);
  log::init({config.log.target, config.log.facility, program, config.log.level});
  return profile;
}

}  // namespace mxtls
