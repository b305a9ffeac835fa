#include "report/reconcile.h"

#include <algorithm>
#include <map>

namespace mxtls {
namespace {

// The MTA names some problems differently from the probe: a certificate
// that depends on SNI fails the MTA's name check; an implicit-TLS server
// times the MTA out at the greeting.
Reason as_the_mta_sees_it(Reason r) {
  switch (r) {
    case Reason::sni_dependent: return Reason::cert_host_mismatch;
    case Reason::tls_on_plain_port: return Reason::timeout;
    default: return r;
  }
}

// Whether `v` foresaw delivery `d`; when not, why in one line.
std::optional<std::string> disagreement(const MtaDelivery& d, const StoredVerdict& v) {
  const auto predicted = [&] {
    return "mxtls predicted " + std::string(outcome_name(v.outcome)) + " (" + std::string(reason_code(v.reason)) + ")";
  };
  if (d.status == "sent") {
    const bool plaintext = d.tls == MtaTls::none;
    const bool foreseen = plaintext ? v.outcome == Outcome::plaintext || v.outcome == Outcome::plaintext_after_delay
                                    : v.outcome == Outcome::tls;
    if (foreseen) return std::nullopt;
    return predicted() + "; the MTA sent it " + (plaintext ? "in plaintext" : "over TLS (" + std::string(mta_tls_name(d.tls)) + ")");
  }
  if (!d.reason) return std::nullopt;  // not a TLS or transport problem we classify
  const bool transport = reason_info(*d.reason).transport;
  const bool foreseen = transport ? v.severity == Severity::unreachable || v.reason == *d.reason
                                  : (v.outcome == Outcome::deferred || v.outcome == Outcome::plaintext_after_delay ||
                                     v.outcome == Outcome::bounced) &&
                                        as_the_mta_sees_it(v.reason) == as_the_mta_sees_it(*d.reason);
  if (foreseen) return std::nullopt;
  return predicted() + "; the MTA " + d.status + " it (" + std::string(reason_code(*d.reason)) + ")";
}

}  // namespace

std::vector<DestinationOutcomes> reconcile(const std::vector<MtaDelivery>& deliveries,
                                           const std::vector<StoredVerdict>& verdicts) {
  std::map<std::string, const StoredVerdict*> by_domain;
  for (const auto& v : verdicts) by_domain[v.domain] = &v;
  std::map<std::string, DestinationOutcomes> out;
  for (const auto& d : deliveries) {
    auto& o = out[d.domain];
    if (o.domain.empty()) {
      o.domain = d.domain;
      if (const auto it = by_domain.find(d.domain); it != by_domain.end()) o.predicted = *it->second;
    }
    if (d.status == "deferred") ++o.deferred;
    else if (d.status == "bounced") ++o.bounced;
    else if (d.tls == MtaTls::none) ++o.sent_plaintext;
    else if (d.tls == MtaTls::verified) ++o.sent_verified;
    else if (d.tls == MtaTls::trusted) ++o.sent_trusted;
    else ++o.sent_untrusted;
    if (d.reason) {
      o.mta_reason = d.reason;
      o.evidence = d.evidence;
    }
    if (!o.predicted) continue;
    if (auto why = disagreement(d, *o.predicted)) {
      if (o.disagreements++ == 0) o.first_disagreement = std::move(*why);
    }
  }
  std::vector<DestinationOutcomes> list;
  for (auto& [_, o] : out) list.push_back(std::move(o));
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    if ((a.disagreements > 0) != (b.disagreements > 0)) return a.disagreements > 0;
    return a.deferred + a.bounced > b.deferred + b.bounced;
  });
  return list;
}

}  // namespace mxtls
