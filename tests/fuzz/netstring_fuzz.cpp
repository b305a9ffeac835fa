// libFuzzer target: netstring framing and socketmap query parsing on
// arbitrary client bytes, and the encode/parse round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/netstring.h"
#include "codec/socketmap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mxtls::codec;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (true) {
    const auto r = parse_netstring(input, kMaxSocketmapQuery);
    if (r.status != ParseStatus::complete) break;
    if (r.consumed == 0 || r.consumed > input.size() || r.payload.size() > kMaxSocketmapQuery) std::abort();
    (void)parse_socketmap_query(r.payload);
    input.remove_prefix(r.consumed);
  }
  const std::string wire = encode_netstring(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto back = parse_netstring(wire, size + 1);
  if (back.status != ParseStatus::complete || back.payload.size() != size) std::abort();
  return 0;
}
