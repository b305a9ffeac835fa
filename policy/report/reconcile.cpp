#include "report/reconcile.h"

#include <algorithm>
#include <iterator>

namespace mxtls {
namespace {

// The MTA sees less than the probe: OpenSSL's alert 40 ("handshake
// failure") is what a cipher, a signature-algorithm or (at security level
// 1) a version mismatch all look like from the client; "legacy sigalg" is
// how TLSv1.0/1.1 fail at level 1; a certificate that depends on SNI fails
// the MTA's name check; an implicit-TLS server times the MTA out at the
// greeting; at dane-only a bogus TLSA RRset is a "TLSA lookup error". Whether
// our reason `ours` fits what the MTA logged.
bool fits(Reason ours, Reason mta) {
  if (ours == mta) return true;
  // Under an MTA-STS policy the MTA logs the certificate problem itself
  // ("Server certificate not verified", a name that matches no pattern).
  if ((ours == Reason::sts_webpki_invalid || ours == Reason::sts_mx_mismatch) && is_certificate_reason(mta)) return true;
  switch (mta) {
    case Reason::handshake_failed:
      return ours == Reason::protocol_version || ours == Reason::legacy_sigalg || ours == Reason::no_shared_cipher ||
             ours == Reason::timeout;
    case Reason::no_shared_cipher: return ours == Reason::legacy_sigalg || ours == Reason::protocol_version;
    case Reason::legacy_sigalg: return ours == Reason::protocol_version;
    case Reason::cert_host_mismatch: return ours == Reason::sni_dependent;
    case Reason::timeout: return ours == Reason::tls_on_plain_port;
    // Postfix says "TLSA lookup error" for a bogus TLSA RRset as for SERVFAIL.
    case Reason::dns_failure: return ours == Reason::dnssec_bogus;
    // dane-only with records OpenSSL refuses fails as a mismatch would.
    case Reason::tlsa_mismatch: return ours == Reason::tlsa_unusable;
    default: return false;
  }
}

}  // namespace

std::optional<std::string> prediction_disagreement(const MtaDelivery& d, const StoredVerdict& v) {
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
                                        fits(v.reason, *d.reason);
  if (foreseen) return std::nullopt;
  return predicted() + "; the MTA " + d.status + " it (" + std::string(reason_code(*d.reason)) + ")";
}

OutcomeTally::OutcomeTally(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& history) {
  for (const auto& v : verdicts) verdicts_[v.domain] = &v;
  for (const auto& v : history) history_[v.domain].push_back(&v);
}

const StoredVerdict* OutcomeTally::in_force(const MtaDelivery& d, const StoredVerdict* current) const {
  if (d.at == 0) return current;
  const auto it = history_.find(d.domain);
  if (it == history_.end()) return current;
  // Oldest first: the last probe at or before d.at.
  const auto after = std::upper_bound(it->second.begin(), it->second.end(), d.at,
                                      [](int64_t at, const StoredVerdict* v) { return at < v->probed_at; });
  return after == it->second.begin() ? current : *std::prev(after);
}

void OutcomeTally::add(const MtaDelivery& d) {
  ++deliveries_;
  auto it = outcomes_.find(d.domain);
  if (it == outcomes_.end()) {
    if (outcomes_.size() >= kMaxTalliedDomains) {
      ++untallied_;
      return;
    }
    it = outcomes_.emplace(d.domain, DestinationOutcomes{}).first;
    it->second.domain = d.domain;
    if (const auto v = verdicts_.find(d.domain); v != verdicts_.end()) it->second.predicted = *v->second;
  }
  auto& o = it->second;
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
  const StoredVerdict* then = in_force(d, o.predicted ? &*o.predicted : nullptr);
  if (!then) return;
  if (auto why = prediction_disagreement(d, *then)) {
    if (o.disagreements++ == 0) o.first_disagreement = std::move(*why);
  }
}

std::vector<DestinationOutcomes> OutcomeTally::result() const {
  std::vector<DestinationOutcomes> list;
  for (const auto& [_, o] : outcomes_) list.push_back(o);
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    if ((a.disagreements > 0) != (b.disagreements > 0)) return a.disagreements > 0;
    return a.deferred + a.bounced > b.deferred + b.bounced;
  });
  return list;
}

}  // namespace mxtls
