// Test helper: a throw-away CA (written to a PEM file) that issues leaf
// certificates with subjectAltName names, read back as the handshake
// records them (tls/certificate.h, DER included). For the tests of stored
// facts and of re-judging them; real OpenSSL objects, no fixtures on disk.
#pragma once
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tls/certificate.h"

namespace mxtls::testing {

class TestCa {
 public:
  TestCa(const std::string& name, const std::filesystem::path& pem) : key_(EVP_EC_gen("P-256")), pem_(pem) {
    cert_ = make(key_, name, nullptr, "critical,CA:TRUE");
    FILE* f = std::fopen(pem.c_str(), "w");
    PEM_write_X509(f, cert_);
    std::fclose(f);
  }
  ~TestCa() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::filesystem::path& pem() const { return pem_; }
  CertificateInfo info() const { return inspect_certificate(cert_); }
  // A leaf naming `dns_name`, signed by this CA; key_bits > 0: an RSA key of that size.
  CertificateInfo leaf(const std::string& dns_name, int rsa_bits = 0) const {
    EVP_PKEY* key = rsa_bits ? EVP_RSA_gen(static_cast<unsigned>(rsa_bits)) : EVP_EC_gen("P-256");
    X509* cert = make(key, dns_name, this, "");
    const CertificateInfo info = inspect_certificate(cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    return info;
  }

 private:
  X509* make(EVP_PKEY* key, const std::string& cn, const TestCa* issuer, const char* constraints) const {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400 * 30);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer->cert_) : X509_get_subject_name(cert));
    X509_set_pubkey(cert, key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer->cert_ : cert, cert, nullptr, nullptr, 0);
    if (*constraints) add_extension(cert, ctx, NID_basic_constraints, constraints);
    else add_extension(cert, ctx, NID_subject_alt_name, ("DNS:" + cn).c_str());
    X509_sign(cert, issuer ? issuer->key_ : key, EVP_sha256());
    return cert;
  }
  static void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  EVP_PKEY* key_;
  X509* cert_ = nullptr;
  std::filesystem::path pem_;
  mutable long serial_ = 0;
};

}  // namespace mxtls::testing
