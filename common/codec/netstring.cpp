#include "codec/netstring.h"

namespace mxtls::codec {

NetstringParse parse_netstring(std::string_view input, std::size_t max_payload) {
  NetstringParse out;
  std::size_t length = 0;
  std::size_t i = 0;
  for (; i < input.size() && input[i] != ':'; ++i) {
    const char c = input[i];
    if (c < '0' || c > '9') return {ParseStatus::malformed, {}, 0, "netstring length is not a number"};
    if (i == 1 && input[0] == '0') return {ParseStatus::malformed, {}, 0, "netstring length has a leading zero"};
    length = length * 10 + static_cast<std::size_t>(c - '0');
    if (length > max_payload) return {ParseStatus::malformed, {}, 0, "netstring longer than " + std::to_string(max_payload) + " bytes"};
  }
  if (i == input.size()) return out;  // need more (the length is still bounded above)
  if (i == 0) return {ParseStatus::malformed, {}, 0, "netstring without a length"};
  const std::size_t start = i + 1;
  if (input.size() < start + length + 1) return out;
  if (input[start + length] != ',') return {ParseStatus::malformed, {}, 0, "netstring not terminated by ','"};
  out.status = ParseStatus::complete;
  out.payload = input.substr(start, length);
  out.consumed = start + length + 1;
  return out;
}

std::string encode_netstring(std::string_view payload) {
  return std::to_string(payload.size()) + ":" + std::string(payload) + ",";
}

}  // namespace mxtls::codec
