// Benchmark (on demand): memory per cached destination. Fills the daemon's
// VerdictCache with N realistic entries and reports the resident-set growth
// per entry (Linux /proc/self/statm).
//   usage: mxtls-bench-cache-memory [N=1000000]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/verdict_cache.h"

namespace {

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const long before = resident_bytes();
  mxtls::VerdictCache cache;
  for (long i = 0; i < n; ++i) {
    const std::string domain = "customer-" + std::to_string(i) + ".example";
    mxtls::CachedVerdict v;
    v.reason = i % 7 ? mxtls::Reason::ok : mxtls::Reason::protocol_version;
    v.severity = i % 7 ? mxtls::Severity::ok : mxtls::Severity::incompatible;
    v.probed_at = 1'800'000'000 + i;
    v.expires_at = v.probed_at + 86400;
    v.mx = "mx1." + domain + "[192.0.2." + std::to_string(i % 250) + "]:25";
    v.tls = mxtls::TlsVersion::tls1_3;
    cache.put(domain, std::move(v));
  }
  const long after = resident_bytes();
  std::printf("cached destinations: %ld\nresident growth: %.1f MiB\nbytes per destination: %.0f\n", n,
              (after - before) / 1048576.0, static_cast<double>(after - before) / static_cast<double>(n));
  return 0;
}
