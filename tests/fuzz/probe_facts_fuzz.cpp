// libFuzzer target: stored probe facts (probe/probe_facts) read from
// arbitrary text, as `mxtls report --what-if` reads a store another host
// (or anyone with write access to Redis) filled; what reads back goes
// through the OpenSSL-facing parts of re-judging (tls/offline_checks: the
// stored DER re-verified, the stored cipher name looked up) and is written
// again. Must never crash; the seed corpus is facts from the lab.
#include <cstdint>
#include <ctime>
#include <string_view>

#include "probe/probe_facts.h"
#include "tls/offline_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const mxtls::FactsRead read = mxtls::read_probe_facts(input);
  if (!read.facts) return 0;
  mxtls::ClientProfile secure;
  secure.name = "postfix";
  secure.level = mxtls::SecurityLevel::secure;
  secure.versions = *mxtls::parse_protocols(">=TLSv1.2").versions;
  secure.cipher_list = "HIGH";
  secure.openssl_security_level = 1;
  for (const auto& mx : read.facts->probe.hosts) {
    (void)mxtls::profile_offers_cipher(secure, mx.compat.cipher);
    (void)mxtls::verify_stored_chain(mx.compat.chain, secure, std::time(nullptr));
  }
  (void)mxtls::encode_probe_facts(read.facts->probe, secure);
  return 0;
}
