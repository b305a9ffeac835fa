// libFuzzer target: the MTA log reader (report/mta_log) on arbitrary log
// text, line by line, as `mxtls report --log` reads a hostile or broken file.
#include <cstdint>
#include <string_view>

#include "report/mta_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  mxtls::MtaLogReader reader;
  while (!input.empty()) {
    const auto nl = input.find('\n');
    (void)reader.read(input.substr(0, nl));
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  return 0;
}
