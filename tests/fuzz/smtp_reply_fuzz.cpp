// libFuzzer target: the SMTP reply parser and EHLO keyword extraction on
// arbitrary server bytes. Must never crash, hang, or consume past its input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = mxtls::smtp::parse_reply(input);
  if (parsed.status == mxtls::smtp::ParseStatus::complete) {
    if (parsed.consumed == 0 || parsed.consumed > size) std::abort();
    if (parsed.reply.code < 200 || parsed.reply.code > 599) std::abort();
    (void)mxtls::smtp::ehlo_keywords(parsed.reply);
  }
  (void)mxtls::smtp::looks_like_tls_record(input);
  return 0;
}
