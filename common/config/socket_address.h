// Socket addresses as operators write them in mxtls.conf: "unix:/path" or
// "inet:ADDRESS:PORT" (an IPv6 address in brackets). What mxtls-policyd
// listens on ([policy] listen, socketmap_listen) and what mxtls-milter
// connects to ([milter] engine) share this one syntax and parser.
#pragma once
#include <string>
#include <string_view>

namespace mxtls {

struct SocketAddress {
  bool unix_socket = false;
  std::string path;          // unix
  std::string address;       // inet: an IP address, no brackets
  unsigned short port = 0;   // inet
  std::string text;          // as written, for logs
};

// Throws ConfigError naming `key` when `item` is neither form.
SocketAddress parse_socket_address(std::string_view item, const std::string& key);

}  // namespace mxtls
