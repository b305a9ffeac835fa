// libFuzzer target: the milter's decoding of mxtls-policyd's answer on
// arbitrary bytes (a broken or hostile engine, a wrong port), and the
// round trip of whatever decodes: encode(decode(x)) must decode the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/engine_verdict.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto v = mxtls::codec::decode_engine_verdict(input, error);
  if (!v) return 0;
  std::string again_error;
  const auto again = mxtls::codec::decode_engine_verdict(mxtls::codec::encode_engine_verdict(*v) + "\n", again_error);
  if (!again || !(*again == *v)) std::abort();
  return 0;
}
