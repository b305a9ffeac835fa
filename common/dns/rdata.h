// Pure decoders for the DNS record data libunbound hands back in wire
// format: MX (preference + name), A, AAAA. Names must be uncompressed
// (unbound expands them), labels <= 63 bytes, names <= 255 bytes, and made of
// host-name characters; anything else is rejected, never guessed at.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxtls::dns {

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // lower-case, no trailing dot; "" for the null MX "."
};

std::optional<MxRecord> parse_mx(std::string_view rdata);
std::optional<std::string> parse_a(std::string_view rdata);     // dotted quad
std::optional<std::string> parse_aaaa(std::string_view rdata);  // RFC 5952 text
// Decodes a wire-format name that must fill `wire` exactly.
std::optional<std::string> parse_name(std::string_view wire);

}  // namespace mxtls::dns
