// What `mxtls probe` and the engine are asked to probe: a mail domain
// ("example.com", MX lookup) or one host written as Postfix writes a next
// hop without MX lookup ("[mx.example.com]:25", "[192.0.2.1]"). Pure parsing
// and validation; plus the guard that keeps probes off non-public addresses.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "util/asio.h"

namespace mxtls {

struct Target {
  std::string name;        // domain or host, lower-case, no trailing dot
  bool literal_host = false;  // [host]: no MX lookup
  int port = 0;            // 0: the configured port
};

struct TargetParse {
  std::optional<Target> target;
  std::string error;
};

TargetParse parse_target(std::string_view text);

// False for loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast,
// documentation, benchmarking and the other ranges of the IANA
// special-purpose registries that are not globally reachable; an IPv6
// address that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) is judged
// by that. An MX pointing there is a probe we refuse unless
// allow_private_targets is on.
bool is_public_address(const asio::ip::address& address);

}  // namespace mxtls
