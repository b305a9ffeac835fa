// The in-memory verdicts the hot path reads: one small entry per destination
// domain, filled from the store at start and by every finished probe.
// Single-threaded (the daemon's io_context thread); no locking.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/dane_tlspolicy.h"
#include "verdict/verdict.h"
#include "store/store.h"
#include "tls/protocols.h"

namespace mxtls {

struct CachedVerdict {
  Reason reason = Reason::ok;
  Severity severity = Severity::ok;
  Outcome outcome = Outcome::tls;
  int64_t probed_at = 0;
  int64_t expires_at = 0;
  std::optional<TlsVersion> tls;  // negotiated version (1 byte, not a string: 1M entries add up)
  std::string mx;                 // deciding MX, "host[addr]:port"
  // At dane levels, the DANE policy the last probe found (the tlspolicy
  // socketmap's dane-sts answer); not stored: none until probed again.
  DaneTlspolicy::Kind dane = DaneTlspolicy::Kind::none;
};

class VerdictCache {
 public:
  const CachedVerdict* find(const std::string& domain) const {
    const auto it = entries_.find(domain);
    return it == entries_.end() ? nullptr : &it->second;
  }
  void put(const std::string& domain, CachedVerdict v) {
    ++by_severity_[static_cast<int>(v.severity)];
    const auto [it, added] = entries_.try_emplace(domain, std::move(v));
    if (!added) {
      --by_severity_[static_cast<int>(it->second.severity)];
      it->second = std::move(v);
    }
  }
  void put(const StoredVerdict& s, DaneTlspolicy::Kind dane = DaneTlspolicy::Kind::none) {
    put(s.domain,
        CachedVerdict{s.reason, s.severity, s.outcome, s.probed_at, s.expires_at, version_from_name(s.tls), s.mx, dane});
  }
  void clear() {
    entries_.clear();
    by_severity_ = {};
  }
  // How many entries have each Severity (indexed by its value).
  const std::array<std::size_t, 4>& by_severity() const { return by_severity_; }
  std::size_t size() const { return entries_.size(); }
  template <typename F>
  void for_each(F&& visit) const {
    for (const auto& [domain, v] : entries_) visit(domain, v);
  }
  // Every entry as a verdict to store again, judged under `level`; the
  // detail text, which the cache does not keep, is left empty.
  std::vector<StoredVerdict> to_store(std::string_view level) const {
    std::vector<StoredVerdict> out;
    out.reserve(entries_.size());
    for (const auto& [domain, v] : entries_)
      out.push_back({domain, v.reason, v.severity, v.outcome, std::string(level), v.mx,
                     v.tls ? std::string(version_name(*v.tls)) : "", "", v.probed_at, v.expires_at,
                     /*facts: not held in memory*/ {}});
    return out;
  }

 private:
  std::unordered_map<std::string, CachedVerdict> entries_;
  std::array<std::size_t, 4> by_severity_{};
};

}  // namespace mxtls
