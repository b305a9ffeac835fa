// DANE for SMTP (RFC 7672) as Postfix implements it: the DNSSEC facts a probe
// gathers per MX host, the per-host decision Postfix's dane_init() makes
// from them before it connects (smtp_tls_policy.c: TLSA authentication,
// fall back to may or encrypt, or defer), and what the handshake learnt
// about which record matched which certificate. The matching itself is
// OpenSSL's (SSL_dane_enable, SSL_dane_tlsa_add) in tls/handshake.cpp, with
// name checks off for DANE-EE(3) and the MX host name for DANE-TA(2), as
// Postfix sets them up. Pure; not a resolver (the prober asks the DNS).
#pragma once
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "dns/resolver.h"
#include "dns/tlsa.h"
#include "tls/client_profile.h"
#include "verdict/reason.h"

namespace mxtls {

// How the _25._tcp.<host> TLSA lookup ended. not_found also covers an
// answer that is not DNSSEC-validated: Postfix ignores insecure TLSA.
enum class TlsaLookup { skipped, found, not_found, error, bogus };
std::string_view tlsa_lookup_name(TlsaLookup l);  // skipped, found, not_found, error, bogus

struct DaneFacts {
  bool validating = false;        // our resolver validates DNSSEC ([dns] trust_anchor)
  bool mx_present = false;        // the host came from the domain's MX RRset (not [host], not an implicit MX)
  dns::Security mx_security = dns::Security::insecure;
  dns::Security address_security = dns::Security::insecure;  // the host's A/AAAA RRset
  TlsaLookup tlsa = TlsaLookup::skipped;
  dns::Security tlsa_security = dns::Security::insecure;
  std::string tlsa_name;          // _25._tcp.<host>
  std::string tlsa_detail;        // the resolver's words when not found or failed
  std::vector<dns::TlsaRecord> records;  // as published, in answer order, at most dns::kMaxTlsaRecords
  std::size_t records_total = 0;  // in the RRset
  std::size_t malformed = 0;      // record data that is not a TLSA record
};

// The destination's part of the facts (what it knew before the host's own
// lookups), as a key: two destinations whose probes of one host would be
// made alike have the same.
std::string dane_inputs_key(const DaneFacts& f);

// What Postfix does with one MX host at dane/dane-only.
enum class DaneMode {
  may,      // no (secure) TLSA: opportunistic TLS
  encrypt,  // TLSA records, none usable: unauthenticated mandatory TLS
  dane,     // usable TLSA: the certificate must match one (TLSA authentication)
  defer,    // no delivery attempt to this host (dane-only without TLSA, lookup errors)
};
std::string_view dane_mode_name(DaneMode m);  // may, encrypt, dane, defer

struct DaneDecision {
  DaneMode mode = DaneMode::may;
  bool half_dane = false;      // MX RRset insecure but the host's TLSA secure (Postfix's "half-dane")
  Reason reason = Reason::ok;  // defer: why; encrypt: tlsa_unusable when that is the cause
  std::string why;             // Postfix's words and ours, for the detail
  std::size_t usable = 0;      // records both Postfix and OpenSSL use
};

// The decision in dane_init()'s order. `profile.level` must be dane or
// dane_only (anything else: mode may, nothing looked at).
DaneDecision decide_dane(const ClientProfile& profile, const DaneFacts& facts);

// Whether the prober should ask for the host's TLSA records: a DANE level,
// and nothing before the lookup has already decided (saves a query).
bool dane_wants_tlsa(const ClientProfile& profile, const DaneFacts& facts);

// What run_handshake needs to authenticate with TLSA records: the TLSA base
// domain (the MX host name: SNI, and the name DANE-TA(2) chains must carry)
// and the records Postfix hands to OpenSSL.
struct DaneSetup {
  std::string base_domain;
  std::vector<dns::TlsaRecord> records;
};
DaneSetup dane_setup(const std::string& host, const DaneFacts& facts);

// What the DANE handshake showed (HandshakeResult::dane).
struct DaneOutcome {
  bool enabled = false;        // TLSA authentication was on for this handshake
  int usable = 0;              // records OpenSSL took (SSL_dane_tlsa_add > 0)
  long verify_result = -1;     // SSL_get_verify_result: X509_V_OK = authenticated, as Postfix decides
  int matched_record = -1;     // index into DaneSetup::records of the record that matched (SSL_get0_dane_tlsa)
  int matched_depth = -1;      // chain depth it matched at, 0 = the server's certificate (SSL_get0_dane_authority)
  std::string matched_subject; // the certificate it matched (a DANE-TA 2 0 0 one need not be in the chain)
  std::time_t matched_not_after = 0;
  // Per record of DaneSetup::records: the depth of the first presented
  // certificate its data matches (selector and matching type applied), -1
  // none. Tells "why not" for the records that did not authenticate.
  std::vector<int> record_depths;
  bool authenticated() const { return enabled && verify_result == 0 && matched_depth >= 0; }
};

// Each published TLSA record with what became of it, for reports: matched,
// unusable (and why), or why it did not match the presented chain.
struct TlsaRecordReport {
  std::string text;       // presentation form, data cut at max_data_bytes
  std::string mnemonic;   // DANE-EE(3) SPKI(1) SHA2-256(1)
  std::string status;     // matched, unusable, no_match, not_checked
  std::string why;        // one line
  int depth = -1;         // the presented certificate its data matches, -1 none
};
std::vector<TlsaRecordReport> explain_tlsa(const DaneFacts& facts, const DaneOutcome& outcome,
                                           std::size_t max_records, std::size_t max_data_bytes);

// Depth of the first certificate in `chain` (leaf first) that `record`'s
// selector and matching type make equal to its data; -1 none.
int tlsa_match_depth(const dns::TlsaRecord& record, const std::vector<X509*>& chain);

}  // namespace mxtls
