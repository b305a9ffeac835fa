#include "tls/certificate.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace mxtls {
namespace {

std::string name_to_string(const X509_NAME* name) {
  if (!name) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::time_t asn1_to_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string first_common_name(const X509_NAME* name) {
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

// The subjectAltName dNSName entries (the first 100).
std::vector<std::string> dns_names_of(X509* cert) {
  std::vector<std::string> names;
  using Names = std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)>;
  Names sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
             GENERAL_NAMES_free);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()) && i < 100; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_STRING* s = gn->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  return names;
}

}  // namespace

CertificateInfo inspect_certificate(X509* cert) {
  CertificateInfo info;
  info.subject = name_to_string(X509_get_subject_name(cert));
  info.issuer = name_to_string(X509_get_issuer_name(cert));
  info.common_name = first_common_name(X509_get_subject_name(cert));
  info.self_issued = X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;

  info.dns_names = dns_names_of(cert);

  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {
    info.key_bits = EVP_PKEY_get_bits(key);
    const int id = EVP_PKEY_get_base_id(key);
    info.key_type = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_DSA ? "DSA"
                    : id == EVP_PKEY_ED25519 ? "ED25519" : id == EVP_PKEY_ED448 ? "ED448" : OBJ_nid2sn(id);
  }
  info.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(cert));
  info.not_before = asn1_to_time(X509_get0_notBefore(cert));
  info.not_after = asn1_to_time(X509_get0_notAfter(cert));

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < md_len; ++i) {
      info.sha256 += kHex[md[i] >> 4];
      info.sha256 += kHex[md[i] & 15];
    }
  }
  info.der = certificate_der(cert);
  return info;
}

std::string certificate_der(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &out);
  return der;
}

std::shared_ptr<X509> parse_certificate(std::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &in, static_cast<long>(der.size()));
  if (!cert) return nullptr;
  return std::shared_ptr<X509>(cert, X509_free);
}

bool certificate_matches(X509* cert, const std::string& host, bool allow_subdomains) {
  if (host.empty() || !cert) return false;
  const std::string name = host.back() == '.' ? host.substr(0, host.size() - 1) : host;
  if (allow_subdomains) {
    // Postfix "dot-nexthop": any name below the domain matches.
    const std::string suffix = "." + name;
    for (const auto& san : dns_names_of(cert))
      if (san.size() > suffix.size() && san.compare(san.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    return false;
  }
  return X509_check_host(cert, name.c_str(), name.size(), 0, nullptr) == 1;
}

bool key_is_weak(const CertificateInfo& cert) {
  if (cert.key_type == "RSA" || cert.key_type == "DSA") return cert.key_bits < 2048;
  if (cert.key_type == "EC") return cert.key_bits < 224;
  return false;
}

std::string format_date(std::time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

}  // namespace mxtls
