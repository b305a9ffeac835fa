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
// TXT (RFC 1035 3.3.14): the character-strings of one record joined
// without separators (as RFC 8461 3.1 reads them); nullopt when the lengths
// do not fill `rdata` exactly.
std::optional<std::string> parse_txt(std::string_view rdata);
// Decodes a wire-format name that must fill `wire` exactly.
std::optional<std::string> parse_name(std::string_view wire);

}  // namespace mxtls::dns
