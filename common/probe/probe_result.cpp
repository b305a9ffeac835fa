#include "probe/probe_result.h"

#include "log/sanitize.h"

namespace mxtls {

std::string format_mx(const MxProbe& mx) {
  return sanitize(mx.host) + "[" + (mx.address.empty() ? "?" : mx.address) + "]:" + std::to_string(mx.port);
}

}  // namespace mxtls
