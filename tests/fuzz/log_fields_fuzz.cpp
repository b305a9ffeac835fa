// libFuzzer target: log/fields.h, the reader of our log lines' key=value
// fields, on arbitrary bytes; and the round trip with the writers: any text
// written through sanitize_quoted or sanitize_address stays one field.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "log/fields.h"
#include "log/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto fields = mxtls::parse_log_fields(input)) {
    for (const auto& f : *fields)
      if (f.key.empty() || f.value.size() > input.size()) std::abort();
  }
  const std::string line = "to=<" + mxtls::sanitize_address(input) + ">, detail=\"" + mxtls::sanitize_quoted(input) +
                           "\", action=dunno";
  const auto fields = mxtls::parse_log_fields(line);
  if (!fields || fields->size() != 3 || (*fields)[1].value != mxtls::sanitize(input) || (*fields)[2].value != "dunno")
    std::abort();
  return 0;
}
