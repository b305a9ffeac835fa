// libFuzzer target: the JSON mxtls prints around a peer's bytes (banners,
// certificate names, reply texts): whatever they are, the text is JSON that
// parses back, and valid UTF-8 comes back exactly as it went in.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "util/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const mxtls::Json document{{"banner", input}, {input, {input}}};
  const auto back = mxtls::Json::parse(mxtls::to_json_text(document), nullptr, false);
  if (back.is_discarded() || !back["banner"].is_string()) std::abort();
  bool utf8 = true;
  try {
    (void)mxtls::Json(input).dump();  // strict: throws on bytes that are not UTF-8
  } catch (const mxtls::Json::type_error&) {
    utf8 = false;
  }
  if (utf8 && back["banner"] != input) std::abort();
  return 0;
}
