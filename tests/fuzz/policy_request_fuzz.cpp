// libFuzzer target: the policy delegation request parser on arbitrary
// client bytes, request after request as a server would read them.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/policy_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (true) {
    const auto r = mxtls::codec::parse_policy_request(input);
    if (r.status != mxtls::codec::ParseStatus::complete) break;
    if (r.consumed == 0 || r.consumed > input.size() || r.request.attributes.empty()) std::abort();
    (void)r.request.get("recipient");
    input.remove_prefix(r.consumed);
  }
  return 0;
}
