// TLSA records (RFC 6698 2.1): the record data libunbound hands back in wire
// format decoded into usage/selector/matching type/data, shown as text, and
// judged usable for SMTP the way Postfix and OpenSSL decide together
// (RFC 7672 3.1): Postfix keeps DANE-TA(2) and DANE-EE(3) and drops the
// private matching type 255 (tls_dane.c parse_tlsa_rr), then OpenSSL refuses
// what it cannot use (SSL_dane_tlsa_add: selector 0/1, matching 0/1/2, digest
// lengths, a full certificate or key that parses). Pure and bounded; the
// matching against a peer's chain is tls/dane.h's job.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxtls::dns {

// A certificate association longer than this is refused as malformed: a
// full certificate (matching type 0) is a few KiB, a digest 32 or 64 bytes.
inline constexpr std::size_t kMaxTlsaData = 16384;
// Records of one TLSA RRset that count: Postfix keeps the first 100 records
// of any RRset and drops the rest ("DNS record count limit (100) exceeded",
// dns_rr.c var_dns_rr_list_limit), so do we (which also bounds memory).
inline constexpr std::size_t kMaxTlsaRecords = 100;

struct TlsaRecord {
  uint8_t usage = 0;     // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  uint8_t selector = 0;  // 0 full certificate, 1 SubjectPublicKeyInfo
  uint8_t mtype = 0;     // 0 exact, 1 SHA2-256, 2 SHA2-512
  std::string data;      // certificate association data (binary)
  friend bool operator==(const TlsaRecord&, const TlsaRecord&) = default;
};

// Decodes one TLSA rdata: 3 bytes of parameters, then the data (which may
// be empty: that is a record, just an unusable one). Nullopt when shorter
// than 3 bytes or the data exceeds kMaxTlsaData.
std::optional<TlsaRecord> parse_tlsa(std::string_view rdata);

// Presentation form, "3 1 1 0a1b..." (lower-case hex, as unbound and ldns
// print it); data longer than max_data_bytes is cut and marked "...".
std::string tlsa_text(const TlsaRecord& r, std::size_t max_data_bytes = kMaxTlsaData);
// "DANE-EE(3) SPKI(1) SHA2-256(1)", the RFC 7218 mnemonics.
std::string tlsa_mnemonic(const TlsaRecord& r);

enum class TlsaUsability {
  usable,
  pkix_usage,         // PKIX-TA(0)/PKIX-EE(1): not used for SMTP (RFC 7672 3.1.3), Postfix ignores them
  unknown_usage,      // > 3
  private_matching,   // matching type 255: Postfix reserves it
  unknown_selector,   // > 1
  unknown_matching,   // not 0, 1, 2
  bad_digest_length,  // SHA2-256 not 32 bytes, SHA2-512 not 64
  empty_data,         // nothing to match
  bad_certificate,    // selector 0, matching 0: not one DER certificate with a key
  bad_public_key,     // selector 1, matching 0: not one DER SubjectPublicKeyInfo
};

TlsaUsability tlsa_usability(const TlsaRecord& r);
bool tlsa_usable(const TlsaRecord& r);
// Whether Postfix keeps the record when it reads the RRset (usage 2 or 3,
// matching type not 255); when it keeps none, Postfix says "TLSA records
// unusable" before connecting; when it keeps some that OpenSSL refuses all
// of, "all TLSA records unusable" at the handshake. Same verdict either way.
bool postfix_keeps(const TlsaRecord& r);
// One line an operator can act on: why the record is unusable.
std::string_view usability_text(TlsaUsability u);
std::string_view usability_code(TlsaUsability u);  // "usable", "pkix_usage", ...

}  // namespace mxtls::dns
