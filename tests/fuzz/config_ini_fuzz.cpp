// libFuzzer target: the INI tokenizer and target parser on arbitrary text
// (configuration files and command-line targets are operator input, but a
// typo must give an error, never a crash).
#include <cstdint>
#include <string_view>

#include "config/ini.h"
#include "probe/target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)mxtls::ini::parse(input);
  (void)mxtls::parse_target(input);
  return 0;
}
