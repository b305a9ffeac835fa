#include "util/json.h"

#include <cmath>

namespace mxtls {

std::string to_json_text(const Json& document) {
  return document.dump(-1, ' ', false, Json::error_handler_t::replace);
}

double json_seconds(double seconds) { return std::round(seconds * 1000) / 1000; }

}  // namespace mxtls
