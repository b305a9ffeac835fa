// libFuzzer target: stored probe facts (probe/probe_facts) read from
// arbitrary text, as `mxtls report --what-if` reads a store another host
// (or an attacker with write access to Redis) filled; whatever reads back
// is judged again (classify/rejudge) under a stricter profile, as the
// report does. Must never crash; the seed corpus is real facts.
#include <cstdint>
#include <ctime>
#include <string_view>

#include "classify/rejudge.h"
#include "probe/probe_facts.h"

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
  secure.match = {"hostname", "nexthop"};
  (void)mxtls::rejudge_probe(*read.facts, secure, std::time(nullptr));
  (void)mxtls::encode_probe_facts(read.facts->probe, secure);
  return 0;
}
