#include "tls/dane.h"

#include <openssl/evp.h>

#include <algorithm>

namespace mxtls {
namespace {

// dane_incompat(): `dane` falls back (to encrypt when the records exist but
// cannot authenticate, to may otherwise); `dane-only` defers.
DaneDecision incompatible(const ClientProfile& profile, bool cantauth, Reason dane_only_reason, std::string why) {
  DaneDecision d;
  d.why = std::move(why);
  if (profile.level == SecurityLevel::dane) {
    d.mode = cantauth ? DaneMode::encrypt : DaneMode::may;
    d.reason = cantauth ? Reason::tlsa_unusable : Reason::ok;
  } else {
    d.mode = DaneMode::defer;
    d.reason = dane_only_reason;
  }
  return d;
}

bool mx_insecure(const DaneFacts& f) { return f.mx_present && f.mx_security != dns::Security::secure; }

// The part of dane_init() before the TLSA lookup; nullopt: look them up.
std::optional<DaneDecision> decide_before_lookup(const ClientProfile& profile, const DaneFacts& f) {
  if (!profile.dane_dnssec_lookups)
    return incompatible(profile, false, Reason::dane_required,
                        std::string(level_name(profile.level)) + " configured with dnssec lookups disabled (smtp_dns_support_level)");
  if (mx_insecure(f) && (profile.level == SecurityLevel::dane_only || profile.dane_insecure_mx <= SecurityLevel::may))
    return incompatible(profile, false, Reason::dane_required,
                        std::string("non DNSSEC destination: the MX RRset is ") + std::string(dns::security_name(f.mx_security)) +
                            (f.validating ? "" : " (DNSSEC validation is off: [dns] trust_anchor is empty)"));
  return std::nullopt;
}

}  // namespace

std::string_view tlsa_lookup_name(TlsaLookup l) {
  switch (l) {
    case TlsaLookup::skipped: return "skipped";
    case TlsaLookup::found: return "found";
    case TlsaLookup::not_found: return "not_found";
    case TlsaLookup::error: return "error";
    case TlsaLookup::bogus: return "bogus";
  }
  return "?";
}

std::string_view dane_mode_name(DaneMode m) {
  switch (m) {
    case DaneMode::may: return "may";
    case DaneMode::encrypt: return "encrypt";
    case DaneMode::dane: return "dane";
    case DaneMode::defer: return "defer";
  }
  return "?";
}

bool dane_wants_tlsa(const ClientProfile& profile, const DaneFacts& facts) {
  // Postfix skips the lookup for a host whose address records are not
  // DNSSEC-validated (tls_dane_resolve, smtp_tls_force_insecure_host_tlsa_lookup = no).
  return level_is_dane(profile.level) && !decide_before_lookup(profile, facts) &&
         facts.address_security == dns::Security::secure;
}

DaneDecision decide_dane(const ClientProfile& profile, const DaneFacts& f) {
  if (!level_is_dane(profile.level)) return {};
  if (auto early = decide_before_lookup(profile, f)) return *early;
  if (f.address_security != dns::Security::secure)
    return incompatible(profile, false, Reason::dane_required,
                        "no TLSA records found: the MX host's address records are " +
                            std::string(dns::security_name(f.address_security)) + ", so Postfix does not look");
  switch (f.tlsa) {
    case TlsaLookup::skipped:
    case TlsaLookup::error:
    case TlsaLookup::bogus: {
      // "When TLSA lookups fail, we defer the message", at dane too.
      DaneDecision d;
      d.mode = DaneMode::defer;
      d.reason = f.tlsa == TlsaLookup::bogus ? Reason::dnssec_bogus : Reason::dns_failure;
      d.why = "TLSA lookup error for " + f.tlsa_name + (f.tlsa_detail.empty() ? "" : ": " + f.tlsa_detail);
      return d;
    }
    case TlsaLookup::not_found:
      return incompatible(profile, false, Reason::dane_required,
                          "no TLSA records found" + (f.tlsa_detail.empty() ? std::string() : " (" + f.tlsa_detail + ")"));
    case TlsaLookup::found: break;
  }
  const auto kept = std::count_if(f.records.begin(), f.records.end(), dns::postfix_keeps);
  const auto usable = static_cast<std::size_t>(std::count_if(f.records.begin(), f.records.end(), dns::tlsa_usable));
  const std::string counts = std::to_string(f.records_total) + " record(s)" +
                             (f.records_total > f.records.size() ? " (Postfix reads the first " + std::to_string(f.records.size()) + ")" : "") +
                             ", none usable";
  if (kept == 0) return incompatible(profile, true, Reason::tlsa_unusable, "TLSA records unusable: " + counts);
  if (mx_insecure(f) && profile.dane_insecure_mx == SecurityLevel::encrypt) {
    auto d = incompatible(profile, true, Reason::tlsa_unusable, "Verification not possible, MX RRset is insecure");
    d.reason = Reason::ok;  // not the records' fault
    return d;
  }
  if (usable == 0) {
    // Postfix connects, OpenSSL refuses every record: dane falls back to
    // encrypt ("all TLSA records unusable"), dane-only cannot authenticate.
    return incompatible(profile, true, Reason::tlsa_unusable, "all TLSA records unusable: " + counts);
  }
  DaneDecision d;
  d.mode = DaneMode::dane;
  d.usable = usable;
  d.half_dane = mx_insecure(f);
  d.why = std::to_string(usable) + " of " + std::to_string(f.records_total) + " TLSA record(s) usable" +
          (f.records_total > f.records.size() ? " (Postfix reads the first " + std::to_string(f.records.size()) + ")" : "") +
          (d.half_dane ? " (MX RRset insecure: Postfix's half-dane)" : "");
  return d;
}

DaneSetup dane_setup(const std::string& host, const DaneFacts& facts) {
  DaneSetup s;
  s.base_domain = host;
  for (const auto& r : facts.records)
    if (dns::postfix_keeps(r)) s.records.push_back(r);
  return s;
}

std::vector<TlsaRecordReport> explain_tlsa(const DaneFacts& facts, const DaneOutcome& outcome, std::size_t max_records,
                                           std::size_t max_data_bytes) {
  std::vector<TlsaRecordReport> out;
  int setup_index = -1;  // DaneSetup::records holds the records Postfix keeps, in order
  for (std::size_t i = 0; i < facts.records.size() && out.size() < max_records; ++i) {
    const auto& r = facts.records[i];
    if (dns::postfix_keeps(r)) ++setup_index;
    TlsaRecordReport rep;
    rep.text = dns::tlsa_text(r, max_data_bytes);
    rep.mnemonic = dns::tlsa_mnemonic(r);
    const auto usability = dns::tlsa_usability(r);
    const bool in_setup = dns::postfix_keeps(r) && setup_index >= 0 &&
                          static_cast<std::size_t>(setup_index) < outcome.record_depths.size();
    if (in_setup) rep.depth = outcome.record_depths[static_cast<std::size_t>(setup_index)];
    if (usability != dns::TlsaUsability::usable) {
      rep.status = "unusable";
      rep.why = std::string(dns::usability_text(usability));
    } else if (!outcome.enabled || !in_setup) {
      rep.status = "not_checked";
      rep.why = "not used: no TLSA authentication for this host";
    } else if (outcome.matched_record == setup_index && outcome.matched_depth >= 0) {
      rep.status = outcome.authenticated() ? "matched" : "no_match";
      rep.depth = outcome.matched_depth;
      rep.why = "matches \"" + outcome.matched_subject + "\" at depth " + std::to_string(outcome.matched_depth) +
                (outcome.authenticated() ? "" : ", but the chain fails verification (error " + std::to_string(outcome.verify_result) + ")");
    } else if (rep.depth < 0) {
      rep.status = "no_match";
      rep.why = "matches no certificate the server presented";
    } else if (r.usage == 3) {
      rep.status = "no_match";
      rep.why = "matches the certificate at depth " + std::to_string(rep.depth) +
                ", but DANE-EE(3) must match the server's own certificate (depth 0)";
    } else if (rep.depth == 0) {
      rep.status = "no_match";
      rep.why = "matches the server's own certificate, but DANE-TA(2) must match an issuer: publish it as DANE-EE(3)";
    } else {
      rep.status = "no_match";
      rep.why = "matches the issuer at depth " + std::to_string(rep.depth) + ", but the chain fails verification" +
                (outcome.verify_result > 0 ? " (error " + std::to_string(outcome.verify_result) + ")" : "");
    }
    out.push_back(std::move(rep));
  }
  return out;
}

int tlsa_match_depth(const dns::TlsaRecord& record, const std::vector<X509*>& chain) {
  if (record.selector > 1 || record.mtype > 2) return -1;
  for (std::size_t depth = 0; depth < chain.size(); ++depth) {
    unsigned char* der = nullptr;
    const int len = record.selector == 0 ? i2d_X509(chain[depth], &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(chain[depth]), &der);
    if (len <= 0) continue;
    std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    if (record.mtype != 0) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int md_len = 0;
      if (EVP_Digest(bytes.data(), bytes.size(), md, &md_len, record.mtype == 1 ? EVP_sha256() : EVP_sha512(), nullptr) != 1)
        continue;
      bytes.assign(reinterpret_cast<char*>(md), md_len);
    }
    if (bytes == record.data) return static_cast<int>(depth);
  }
  return -1;
}

std::string dane_inputs_key(const DaneFacts& f) {
  return std::string("|dane:") + (f.validating ? "v" : "-") + (f.mx_present ? "m" : "-") + "," +
         std::string(dns::security_name(f.mx_security)) + "," + std::string(dns::security_name(f.address_security));
}

}  // namespace mxtls
