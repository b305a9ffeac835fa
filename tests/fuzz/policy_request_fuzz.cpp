// libFuzzer target: the policy delegation request parser on arbitrary
// client bytes, request after request as a server would read them, and the
// same bytes arriving in pieces (resumed parsing) giving the same result.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/policy_request.h"

namespace {

using namespace mxtls::codec;

// The input in pieces of 1 to 8 bytes, the sizes taken from the input.
PolicyParse parse_in_pieces(std::string_view input) {
  PolicyParseProgress progress;
  std::size_t have = 0;
  while (true) {
    have = std::min(input.size(), have + 1 + (have < input.size() ? static_cast<unsigned char>(input[have]) % 8 : 0));
    auto r = parse_policy_request(input.substr(0, have), progress);
    if (r.status != ParseStatus::need_more || have == input.size()) return r;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (true) {
    const auto r = parse_policy_request(input);
    const auto pieces = parse_in_pieces(input);
    if (pieces.status != r.status || pieces.consumed != r.consumed || pieces.error != r.error ||
        pieces.request.attributes != r.request.attributes)
      std::abort();
    if (r.status != ParseStatus::complete) break;
    if (r.consumed == 0 || r.consumed > input.size() || r.request.attributes.empty()) std::abort();
    (void)r.request.get("recipient");
    input.remove_prefix(r.consumed);
  }
  return 0;
}
