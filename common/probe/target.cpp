#include "probe/target.h"

#include <array>
#include <cctype>
#include <charconv>

#include "address/domain.h"

namespace mxtls {

TargetParse parse_target(std::string_view text) {
  Target t;
  if (text.size() > 300) return {std::nullopt, "target longer than 300 characters"};
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return {std::nullopt, "missing ']' in '" + std::string(text) + "'"};
    t.literal_host = true;
    const auto rest = text.substr(close + 1);
    text = text.substr(1, close - 1);
    if (!rest.empty()) {
      int port = 0;
      const auto r = std::from_chars(rest.data() + 1, rest.data() + rest.size(), port);
      if (rest[0] != ':' || r.ec != std::errc() || r.ptr != rest.data() + rest.size() || port < 1 || port > 65535)
        return {std::nullopt, "bad port in '" + std::string(rest) + "' (expected :1-65535)"};
      t.port = port;
    }
  }
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  for (char c : text) t.name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  boost::system::error_code ec;
  const bool is_ip = t.literal_host && (asio::ip::make_address(t.name, ec), !ec);
  if (!is_ip && !is_valid_domain(t.name)) return {std::nullopt, "'" + t.name + "' is not a valid domain name"};
  return {t, ""};
}

bool is_public_address(const asio::ip::address& address) {
  if (address.is_v6()) {
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) return is_public_address(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
    const auto b = v6.to_bytes();
    if (v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() || v6.is_multicast() || v6.is_site_local()) return false;
    if ((b[0] & 0xfe) == 0xfc) return false;                               // fc00::/7 unique local
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // 2001:db8::/32 documentation
    if (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0) return false;        // 100::/64 discard
    return (b[0] & 0xe0) == 0x20;                                           // 2000::/3 global unicast
  }
  const auto v = address.to_v4().to_uint();
  struct Range { uint32_t net; int bits; };
  static constexpr std::array<Range, 14> kReserved{{
      {0x00000000, 8},   // 0.0.0.0/8 "this network"
      {0x0A000000, 8},   // 10/8
      {0x64400000, 10},  // 100.64/10 CGNAT
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local
      {0xAC100000, 12},  // 172.16/12
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 TEST-NET-1
      {0xC0A80000, 16},  // 192.168/16
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 TEST-NET-2
      {0xCB007100, 24},  // 203.0.113/24 TEST-NET-3
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved and broadcast
  }};
  for (const auto& r : kReserved) {
    const uint32_t mask = ~uint32_t{0} << (32 - r.bits);
    if ((v & mask) == r.net) return false;
  }
  return true;
}

}  // namespace mxtls
