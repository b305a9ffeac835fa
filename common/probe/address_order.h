// The order in which our MTA tries a destination's MX addresses, and which
// of them it tries at all: Postfix sorts the addresses of all MX hosts by MX
// preference, then by family as smtp_address_preference says, keeps both
// families within smtp_mx_address_limit (smtp_balance_inet_protocols) and
// stops after that many (smtp_addr.c, smtp_connect.c). Pure; no lookups.
#pragma once
#include <string>
#include <vector>

#include "dns/resolver.h"
#include "tls/client_profile.h"
#include "util/asio.h"

namespace mxtls {

struct MxAddress {
  std::string host;
  int preference = 0;
  bool from_mx = false;         // listed in the domain's MX RRset
  asio::ip::address address;
  dns::Security security = dns::Security::insecure;  // of the A or AAAA RRset it came from
};

struct AddressPlan {
  std::vector<MxAddress> tried;  // in the order the MTA tries them
  int beyond_limit = 0;          // addresses the MTA never tries (the limit)
};

// Probes never try more than this many addresses per destination, even
// where the MTA has no limit (smtp_mx_address_limit = 0).
inline constexpr int kMaxAddressesTried = 10;

// `addresses` in MX preference order (each host's as resolved), only of the
// families `connection` allows. With smtp_address_preference = any Postfix
// shuffles equal-preference addresses; mxtls tries IPv6 first then (the
// order that meets an IPv6 breakage first) and probes every address the MTA
// may try, so no order hides a broken one.
AddressPlan plan_addresses(std::vector<MxAddress> addresses, const MtaConnection& connection);

}  // namespace mxtls
