// libFuzzer target: `mxtls report`'s reader of decision log lines on
// arbitrary bytes, line by line as it reads a log file.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "report/decision_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto end = input.find('\n');
    const auto line = input.substr(0, end);
    if (const auto d = mxtls::parse_decision_line(line)) {
      if (d->domain.empty() || d->reason.empty() || d->domain.size() > line.size()) std::abort();
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return 0;
}
