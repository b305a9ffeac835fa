#include "codec/socketmap.h"

namespace mxtls::codec {

std::optional<SocketmapQuery> parse_socketmap_query(std::string_view payload) {
  const auto space = payload.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= payload.size()) return std::nullopt;
  for (unsigned char c : payload)
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  return SocketmapQuery{std::string(payload.substr(0, space)), std::string(payload.substr(space + 1))};
}

std::string format_socketmap_reply(SocketmapStatus status, std::string_view text) {
  switch (status) {
    case SocketmapStatus::ok: return "OK " + std::string(text);
    case SocketmapStatus::notfound: return "NOTFOUND ";
    case SocketmapStatus::temp: return "TEMP " + std::string(text);
    case SocketmapStatus::timeout: return "TIMEOUT " + std::string(text);
    case SocketmapStatus::perm: return "PERM " + std::string(text);
  }
  return "PERM internal error";
}

}  // namespace mxtls::codec
