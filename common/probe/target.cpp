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

namespace {

using Bytes6 = asio::ip::address_v6::bytes_type;

asio::ip::address_v4 v4_at(const Bytes6& b, std::size_t at, uint8_t flip = 0) {
  return asio::ip::address_v4(asio::ip::address_v4::bytes_type{
      uint8_t(b[at] ^ flip), uint8_t(b[at + 1] ^ flip), uint8_t(b[at + 2] ^ flip), uint8_t(b[at + 3] ^ flip)});
}

struct Net6 {
  Bytes6 net;
  int bits;
  Net6(const char* text, int prefix_bits) : net(asio::ip::make_address_v6(text).to_bytes()), bits(prefix_bits) {}
  bool contains(const Bytes6& b) const {
    for (int i = 0; i * 8 < bits; ++i) {
      const int left = bits - i * 8;
      const uint8_t mask = left >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - left));
      if ((b[i] & mask) != (net[i] & mask)) return false;
    }
    return true;
  }
};

bool is_public_v6(const asio::ip::address_v6& v6) {
  // Translation and tunnel prefixes (IANA IPv6 special-purpose registry)
  // lead to the IPv4 address they carry: judge that one.
  static const Net6 kNat64("64:ff9b::", 96), k6to4("2002::", 16), kTeredo("2001::", 32);
  const auto b = v6.to_bytes();
  if (v6.is_v4_mapped() || kNat64.contains(b)) return is_public_address(v4_at(b, 12));
  if (k6to4.contains(b)) return is_public_address(v4_at(b, 2));
  if (kTeredo.contains(b))  // server address, then the client's (stored inverted)
    return is_public_address(v4_at(b, 4)) && is_public_address(v4_at(b, 12, 0xff));
  if (v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() || v6.is_multicast() || v6.is_site_local()) return false;
  static const Net6 kReserved[] = {
      {"64:ff9b:1::", 48},  // local-use IPv4/IPv6 translation
      {"2001::", 23},       // IETF protocol assignments (Teredo judged above)
      {"2001:db8::", 32},   // documentation
      {"3fff::", 20},       // documentation
      {"fc00::", 7},        // unique local
  };
  for (const auto& r : kReserved)
    if (r.contains(b)) return false;
  // Only 2000::/3 is global unicast: this also refuses ::/96 (IPv4-compatible),
  // 100::/64 (discard), 5f00::/16 (SRv6) and everything unassigned.
  return (b[0] & 0xe0) == 0x20;
}

}  // namespace

bool is_public_address(const asio::ip::address& address) {
  if (address.is_v6()) return is_public_v6(address.to_v6());
  const auto v = address.to_v4().to_uint();
  struct Range { uint32_t net; int bits; };
  static constexpr std::array<Range, 15> kReserved{{
      {0x00000000, 8},   // 0.0.0.0/8 "this network"
      {0x0A000000, 8},   // 10/8
      {0x64400000, 10},  // 100.64/10 CGNAT
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local
      {0xAC100000, 12},  // 172.16/12
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 TEST-NET-1
      {0xC0586300, 24},  // 192.88.99/24 deprecated 6to4 relay anycast (RFC 7526)
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
