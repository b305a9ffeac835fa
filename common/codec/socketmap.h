// Postfix socketmap lookups (socketmap_table(5)): a netstring "NAME KEY",
// answered by a netstring "OK value", "NOTFOUND ", "TEMP reason",
// "TIMEOUT reason" or "PERM reason". Pure codec; which maps exist and what
// they answer is the engine's business.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mxtls::codec {

inline constexpr std::size_t kMaxSocketmapQuery = 10000;

struct SocketmapQuery {
  std::string map;
  std::string key;
};

std::optional<SocketmapQuery> parse_socketmap_query(std::string_view payload);

enum class SocketmapStatus { ok, notfound, temp, timeout, perm };
// The reply payload, ready for encode_netstring().
std::string format_socketmap_reply(SocketmapStatus status, std::string_view text);

}  // namespace mxtls::codec
