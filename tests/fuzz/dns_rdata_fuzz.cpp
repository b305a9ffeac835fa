// libFuzzer target: DNS record data decoders on arbitrary wire bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/rdata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto mx = mxtls::dns::parse_mx(input); mx && mx->host.size() > 253) std::abort();
  (void)mxtls::dns::parse_a(input);
  (void)mxtls::dns::parse_aaaa(input);
  return 0;
}
