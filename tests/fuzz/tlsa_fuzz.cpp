// libFuzzer target: TLSA record data (dns/tlsa) on arbitrary wire bytes:
// decoding, presentation and the usability verdict (which parses DER
// certificates and keys for matching type 0).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/tlsa.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto record = mxtls::dns::parse_tlsa(input);
  if (!record) {
    if (size >= 3 && size - 3 <= mxtls::dns::kMaxTlsaData) std::abort();  // a valid length must parse
    return 0;
  }
  if (record->data.size() != size - 3) std::abort();
  const auto text = mxtls::dns::tlsa_text(*record, 16);
  if (text.size() > 3 * 4 + 2 * 16 + 3) std::abort();  // "255 255 255 " + 16 bytes hex + "..."
  (void)mxtls::dns::tlsa_mnemonic(*record);
  const auto usability = mxtls::dns::tlsa_usability(*record);
  if (usability == mxtls::dns::TlsaUsability::usable && !mxtls::dns::postfix_keeps(*record)) std::abort();
  if (mxtls::dns::usability_text(usability).empty()) std::abort();
  return 0;
}
