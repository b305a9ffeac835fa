#include "dns/rdata.h"

#include <arpa/inet.h>

#include <cctype>

namespace mxtls::dns {

std::optional<std::string> parse_name(std::string_view wire) {
  std::string name;
  std::size_t pos = 0;
  while (true) {
    if (pos >= wire.size()) return std::nullopt;
    const auto len = static_cast<unsigned char>(wire[pos++]);
    if (len == 0) break;
    if (len > 63 || pos + len > wire.size()) return std::nullopt;  // also rejects compression pointers
    if (!name.empty()) name.push_back('.');
    for (char c : wire.substr(pos, len)) {
      const auto u = static_cast<unsigned char>(c);
      if (!(std::isalnum(u) || c == '-' || c == '_')) return std::nullopt;
      name.push_back(static_cast<char>(std::tolower(u)));
    }
    pos += len;
    if (name.size() > 253) return std::nullopt;
  }
  if (pos != wire.size()) return std::nullopt;
  return name;
}

std::optional<MxRecord> parse_mx(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  MxRecord mx;
  mx.preference = static_cast<uint16_t>((static_cast<unsigned char>(rdata[0]) << 8) | static_cast<unsigned char>(rdata[1]));
  auto host = parse_name(rdata.substr(2));
  if (!host) return std::nullopt;
  mx.host = std::move(*host);
  return mx;
}

std::optional<std::string> parse_a(std::string_view rdata) {
  if (rdata.size() != 4) return std::nullopt;
  char buf[INET_ADDRSTRLEN];
  if (!inet_ntop(AF_INET, rdata.data(), buf, sizeof buf)) return std::nullopt;
  return std::string(buf);
}

std::optional<std::string> parse_aaaa(std::string_view rdata) {
  if (rdata.size() != 16) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, rdata.data(), buf, sizeof buf)) return std::nullopt;
  return std::string(buf);
}

std::optional<std::string> parse_txt(std::string_view rdata) {
  std::string text;
  std::size_t pos = 0;
  while (pos < rdata.size()) {
    const auto len = static_cast<unsigned char>(rdata[pos++]);
    if (pos + len > rdata.size()) return std::nullopt;
    text.append(rdata.substr(pos, len));
    pos += len;
  }
  return text;
}

}  // namespace mxtls::dns
