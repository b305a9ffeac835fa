// libFuzzer target: the MTA-STS TXT record parser and record selection on
// arbitrary bytes (one record, and the input split at NULs into several).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dns/rdata.h"
#include "sts/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto r = mxtls::sts::parse_record(input);
  if (r.record && (r.record->id.empty() || r.record->id.size() > 32)) std::abort();
  if (r.record && input.size() > mxtls::sts::kMaxRecordSize) std::abort();
  std::vector<std::string> records;
  std::size_t start = 0;
  while (start <= input.size() && records.size() < 64) {
    const auto end = input.find('\0', start);
    records.emplace_back(input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const auto s = mxtls::sts::select_record(records);
  if (s.status == mxtls::sts::Discovery::found && s.record.id.empty()) std::abort();
  (void)mxtls::dns::parse_txt(input);
  return 0;
}
