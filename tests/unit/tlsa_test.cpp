// dns/tlsa: TLSA rdata decoding, presentation, and which records Postfix and
// OpenSSL can use for SMTP (checked against OpenSSL's own SSL_dane_tlsa_add).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "dns/tlsa.h"

namespace mxtls::dns {
namespace {

std::string rdata(int usage, int selector, int mtype, const std::string& data) {
  return std::string{static_cast<char>(usage), static_cast<char>(selector), static_cast<char>(mtype)} + data;
}

TlsaRecord record(int usage, int selector, int mtype, const std::string& data) {
  return *parse_tlsa(rdata(usage, selector, mtype, data));
}

// A fresh EC key and a self-signed certificate for it, DER-encoded.
struct Material {
  std::string cert_der, spki_der;
};

Material make_material() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mx.example"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_set_pubkey(cert, key);
  X509_sign(cert, key, EVP_sha256());
  Material m;
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  m.cert_der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  der = nullptr;
  len = i2d_PUBKEY(key, &der);
  m.spki_der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_free(cert);
  EVP_PKEY_free(key);
  return m;
}

TEST(Tlsa, DecodesParametersAndData) {
  const auto r = parse_tlsa(rdata(3, 1, 1, std::string(32, '\xab')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->usage, 3);
  EXPECT_EQ(r->selector, 1);
  EXPECT_EQ(r->mtype, 1);
  EXPECT_EQ(r->data.size(), 32u);
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(tlsa_text(*r), "3 1 1 " + hex);
  EXPECT_EQ(tlsa_mnemonic(*r), "DANE-EE(3) SPKI(1) SHA2-256(1)");
}

TEST(Tlsa, RejectsShortAndOversizedRdata) {
  EXPECT_FALSE(parse_tlsa(""));
  EXPECT_FALSE(parse_tlsa(std::string("\x03\x01", 2)));
  EXPECT_TRUE(parse_tlsa(std::string("\x03\x01\x01", 3)));  // a record, with no data
  EXPECT_TRUE(parse_tlsa(rdata(3, 0, 0, std::string(kMaxTlsaData, 'x'))));
  EXPECT_FALSE(parse_tlsa(rdata(3, 0, 0, std::string(kMaxTlsaData + 1, 'x'))));
}

TEST(Tlsa, TextCutsLongDataAndMarksEmpty) {
  EXPECT_EQ(tlsa_text(record(3, 1, 1, std::string(32, '\x01')), 2), "3 1 1 0101...");
  EXPECT_EQ(tlsa_text(record(3, 1, 1, "")), "3 1 1 -");
}

TEST(Tlsa, UsabilityAsPostfixAndOpenSslDecide) {
  const std::string sha256(32, 'x'), sha512(64, 'x');
  EXPECT_EQ(tlsa_usability(record(3, 1, 1, sha256)), TlsaUsability::usable);
  EXPECT_EQ(tlsa_usability(record(2, 0, 2, sha512)), TlsaUsability::usable);
  EXPECT_EQ(tlsa_usability(record(0, 0, 1, sha256)), TlsaUsability::pkix_usage);
  EXPECT_EQ(tlsa_usability(record(1, 1, 1, sha256)), TlsaUsability::pkix_usage);
  EXPECT_EQ(tlsa_usability(record(4, 1, 1, sha256)), TlsaUsability::unknown_usage);
  EXPECT_EQ(tlsa_usability(record(3, 1, 255, sha256)), TlsaUsability::private_matching);
  EXPECT_EQ(tlsa_usability(record(3, 2, 1, sha256)), TlsaUsability::unknown_selector);
  EXPECT_EQ(tlsa_usability(record(3, 1, 3, sha256)), TlsaUsability::unknown_matching);
  EXPECT_EQ(tlsa_usability(record(3, 1, 1, sha512)), TlsaUsability::bad_digest_length);
  EXPECT_EQ(tlsa_usability(record(3, 1, 2, sha256)), TlsaUsability::bad_digest_length);
  EXPECT_EQ(tlsa_usability(record(3, 0, 0, "")), TlsaUsability::empty_data);
  EXPECT_EQ(tlsa_usability(record(3, 0, 0, "not DER")), TlsaUsability::bad_certificate);
  EXPECT_EQ(tlsa_usability(record(2, 1, 0, "not DER")), TlsaUsability::bad_public_key);
  const auto m = make_material();
  EXPECT_EQ(tlsa_usability(record(2, 0, 0, m.cert_der)), TlsaUsability::usable);
  EXPECT_EQ(tlsa_usability(record(3, 1, 0, m.spki_der)), TlsaUsability::usable);
  EXPECT_EQ(tlsa_usability(record(3, 1, 0, m.spki_der + "x")), TlsaUsability::bad_public_key);  // trailing bytes
  EXPECT_EQ(tlsa_usability(record(3, 0, 0, m.cert_der)), TlsaUsability::usable);
  EXPECT_EQ(tlsa_usability(record(3, 1, 0, m.cert_der)), TlsaUsability::bad_public_key);
  for (const auto& r : {record(0, 0, 1, sha256), record(3, 1, 255, sha256)}) EXPECT_FALSE(postfix_keeps(r));
  for (const auto& r : {record(3, 2, 1, sha256), record(2, 1, 1, sha512)}) EXPECT_TRUE(postfix_keeps(r));
}

// For every record Postfix keeps, our verdict equals OpenSSL's own.
TEST(Tlsa, UsabilityAgreesWithSslDaneTlsaAdd) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  ASSERT_GT(SSL_CTX_dane_enable(ctx.get()), 0);
  const auto m = make_material();
  const std::string datas[] = {"", "x", std::string(32, 'a'), std::string(64, 'b'), m.cert_der, m.spki_der, m.cert_der + "!"};
  int checked = 0;
  for (int usage : {2, 3, 4})
    for (int selector : {0, 1, 2})
      for (int mtype : {0, 1, 2, 3})
        for (const auto& data : datas) {
          std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
          ASSERT_GT(SSL_dane_enable(ssl.get(), "mx.example"), 0);
          const auto r = record(usage, selector, mtype, data);
          const int rc = SSL_dane_tlsa_add(ssl.get(), r.usage, r.selector, r.mtype,
                                           reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
          EXPECT_EQ(tlsa_usable(r), rc > 0) << tlsa_text(r, 8) << " openssl=" << rc;
          ++checked;
        }
  EXPECT_GT(checked, 200);
}

TEST(Tlsa, EveryUsabilityHasTextAndCode) {
  for (int u = 0; u <= static_cast<int>(TlsaUsability::bad_public_key); ++u) {
    EXPECT_FALSE(usability_text(static_cast<TlsaUsability>(u)).empty());
    EXPECT_NE(usability_code(static_cast<TlsaUsability>(u)), "?");
  }
}

}  // namespace
}  // namespace mxtls::dns
