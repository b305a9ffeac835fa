// What an operator needs to know about a peer certificate, read out of an
// X509 once so the rest of mxtls never touches OpenSSL objects: names, key,
// signature algorithm, validity and SHA-256 fingerprint. Strings here are
// untrusted (they come from the peer) and must be sanitized before logging.
#pragma once
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

struct CertificateInfo {
  std::string subject;      // RFC 2253 one-line form
  std::string issuer;
  std::string common_name;  // first CN, if any
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  std::string key_type;     // RSA, EC, DSA, ED25519, ...
  int key_bits = 0;
  std::string signature_algorithm;  // e.g. sha256WithRSAEncryption
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool self_issued = false;  // subject == issuer
  std::string sha256;        // hex fingerprint
  std::string der;           // the certificate itself, so stored facts can re-verify the chain (probe/probe_facts.h)

  std::string key_summary() const { return key_type + "-" + std::to_string(key_bits); }
  long days_left(std::time_t now) const { return static_cast<long>((not_after - now) / 86400); }
};

CertificateInfo inspect_certificate(X509* cert);

// The certificate as DER bytes, to keep beside the facts read out of it.
std::string certificate_der(X509* cert);

// A certificate parsed from DER once (null when it is not one): parsing
// decodes its public key, which under OpenSSL 3 costs more than a
// handshake's own work on the client side, so each leaf is parsed once
// and shared, never parsed again per name it is matched against.
std::shared_ptr<X509> parse_certificate(std::string_view der);

// Does the certificate name `host` (SAN dNSName, else CN; wildcards as RFC
// 6125)? `allow_subdomains` implements Postfix's "dot-nexthop". False for null.
bool certificate_matches(X509* cert, const std::string& host, bool allow_subdomains);

// True when the key is below what any current CA issues: RSA/DSA < 2048 bits,
// EC < 224 bits.
bool key_is_weak(const CertificateInfo& cert);

// UTC date "YYYY-MM-DD".
std::string format_date(std::time_t t);

}  // namespace mxtls
