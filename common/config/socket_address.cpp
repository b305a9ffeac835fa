#include "config/socket_address.h"

#include <charconv>

#include "config/config.h"
#include "util/asio.h"

namespace mxtls {

SocketAddress parse_socket_address(std::string_view item, const std::string& key) {
  SocketAddress s;
  s.text = item;
  if (item.starts_with("unix:") && item.size() > 6 && item[5] == '/') {
    s.unix_socket = true;
    s.path = item.substr(5);
    return s;
  }
  if (!item.starts_with("inet:")) throw ConfigError(key + ": '" + s.text + "' is neither unix:/path nor inet:ADDRESS:PORT");
  const auto colon = item.rfind(':');
  int port = 0;
  const auto r = std::from_chars(item.data() + colon + 1, item.data() + item.size(), port);
  if (colon <= 5 || r.ec != std::errc() || r.ptr != item.data() + item.size() || port < 1 || port > 65535)
    throw ConfigError(key + ": '" + s.text + "' is not inet:ADDRESS:PORT");
  s.address = item.substr(5, colon - 5);
  if (s.address.size() > 2 && s.address.front() == '[' && s.address.back() == ']') s.address = s.address.substr(1, s.address.size() - 2);
  s.port = static_cast<unsigned short>(port);
  boost::system::error_code ec;
  asio::ip::make_address(s.address, ec);
  if (ec) throw ConfigError(key + ": '" + s.address + "' is not an IP address");
  return s;
}

}  // namespace mxtls
