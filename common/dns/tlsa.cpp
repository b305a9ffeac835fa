#include "dns/tlsa.h"

#include <openssl/x509.h>

#include <array>

namespace mxtls::dns {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string_view usage_name(uint8_t u) {
  static constexpr std::array<std::string_view, 4> kNames{"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"};
  return u < kNames.size() ? kNames[u] : "usage";
}

std::string_view selector_name(uint8_t s) {
  return s == 0 ? "Cert" : s == 1 ? "SPKI" : "selector";
}

std::string_view matching_name(uint8_t m) {
  return m == 0 ? "Full" : m == 1 ? "SHA2-256" : m == 2 ? "SHA2-512" : m == 255 ? "PrivMatch" : "matching";
}

// The data must be exactly one DER object of the kind, as OpenSSL requires.
bool parses_as_certificate(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  const bool ok = cert && p == reinterpret_cast<const unsigned char*>(der.data()) + der.size() && X509_get0_pubkey(cert);
  X509_free(cert);
  return ok;
}

bool parses_as_public_key(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  const bool ok = key && p == reinterpret_cast<const unsigned char*>(der.data()) + der.size();
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

std::optional<TlsaRecord> parse_tlsa(std::string_view rdata) {
  if (rdata.size() < 3 || rdata.size() - 3 > kMaxTlsaData) return std::nullopt;
  TlsaRecord r;
  r.usage = static_cast<uint8_t>(rdata[0]);
  r.selector = static_cast<uint8_t>(rdata[1]);
  r.mtype = static_cast<uint8_t>(rdata[2]);
  r.data.assign(rdata.substr(3));
  return r;
}

std::string tlsa_text(const TlsaRecord& r, std::size_t max_data_bytes) {
  std::string out = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " + std::to_string(r.mtype) + " ";
  const std::size_t shown = std::min(r.data.size(), max_data_bytes);
  out.reserve(out.size() + 2 * shown + 3);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto b = static_cast<unsigned char>(r.data[i]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  if (r.data.empty()) out += "-";  // RFC 3597-style placeholder: no data
  if (shown < r.data.size()) out += "...";
  return out;
}

std::string tlsa_mnemonic(const TlsaRecord& r) {
  return std::string(usage_name(r.usage)) + "(" + std::to_string(r.usage) + ") " + std::string(selector_name(r.selector)) + "(" +
         std::to_string(r.selector) + ") " + std::string(matching_name(r.mtype)) + "(" + std::to_string(r.mtype) + ")";
}

bool postfix_keeps(const TlsaRecord& r) { return (r.usage == 2 || r.usage == 3) && r.mtype != 255; }

TlsaUsability tlsa_usability(const TlsaRecord& r) {
  // Postfix first (tls_dane.c parse_tlsa_rr) ...
  if (r.usage == 0 || r.usage == 1) return TlsaUsability::pkix_usage;
  if (r.usage > 3) return TlsaUsability::unknown_usage;
  if (r.mtype == 255) return TlsaUsability::private_matching;
  // ... then OpenSSL (ssl_lib.c dane_tlsa_add), in its order.
  if (r.selector > 1) return TlsaUsability::unknown_selector;
  if (r.mtype > 2) return TlsaUsability::unknown_matching;
  if (r.mtype == 1 && r.data.size() != 32) return TlsaUsability::bad_digest_length;
  if (r.mtype == 2 && r.data.size() != 64) return TlsaUsability::bad_digest_length;
  if (r.data.empty()) return TlsaUsability::empty_data;
  if (r.mtype == 0 && r.selector == 0 && !parses_as_certificate(r.data)) return TlsaUsability::bad_certificate;
  if (r.mtype == 0 && r.selector == 1 && !parses_as_public_key(r.data)) return TlsaUsability::bad_public_key;
  return TlsaUsability::usable;
}

bool tlsa_usable(const TlsaRecord& r) { return tlsa_usability(r) == TlsaUsability::usable; }

std::string_view usability_code(TlsaUsability u) {
  switch (u) {
    case TlsaUsability::usable: return "usable";
    case TlsaUsability::pkix_usage: return "pkix_usage";
    case TlsaUsability::unknown_usage: return "unknown_usage";
    case TlsaUsability::private_matching: return "private_matching";
    case TlsaUsability::unknown_selector: return "unknown_selector";
    case TlsaUsability::unknown_matching: return "unknown_matching";
    case TlsaUsability::bad_digest_length: return "bad_digest_length";
    case TlsaUsability::empty_data: return "empty_data";
    case TlsaUsability::bad_certificate: return "bad_certificate";
    case TlsaUsability::bad_public_key: return "bad_public_key";
  }
  return "?";
}

std::string_view usability_text(TlsaUsability u) {
  switch (u) {
    case TlsaUsability::usable: return "usable";
    case TlsaUsability::pkix_usage: return "PKIX-TA(0)/PKIX-EE(1) records are not used for SMTP (RFC 7672 3.1.3): publish DANE-EE(3) or DANE-TA(2)";
    case TlsaUsability::unknown_usage: return "unknown certificate usage (only 2 and 3 are used for SMTP)";
    case TlsaUsability::private_matching: return "matching type 255 is reserved for private use";
    case TlsaUsability::unknown_selector: return "unknown selector (only 0, full certificate, and 1, public key)";
    case TlsaUsability::unknown_matching: return "unknown matching type (only 0, 1 SHA2-256 and 2 SHA2-512)";
    case TlsaUsability::bad_digest_length: return "the digest has the wrong length for its matching type (SHA2-256: 32 bytes, SHA2-512: 64)";
    case TlsaUsability::empty_data: return "no certificate association data";
    case TlsaUsability::bad_certificate: return "matching type 0 with selector 0, but the data is not one DER certificate";
    case TlsaUsability::bad_public_key: return "matching type 0 with selector 1, but the data is not one DER public key";
  }
  return "?";
}

}  // namespace mxtls::dns
