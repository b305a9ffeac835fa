// tls/dane and the classifier at dane/dane-only: Postfix's per-host DANE
// decision (smtp_tls_policy.c dane_init) from DNSSEC facts, the verdicts
// that follow, and which presented certificate a TLSA record matches.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>

#include "classify/classifier.h"
#include "tls/dane.h"

namespace mxtls {
namespace {

using dns::Security;

ClientProfile dane_profile(SecurityLevel level) {
  ClientProfile p;
  p.name = "test";
  p.level = level;
  p.versions = p.may_versions = *parse_protocols(">=TLSv1.2").versions;
  p.match = {"hostname"};
  p.dane_insecure_mx = level == SecurityLevel::dane ? SecurityLevel::dane : SecurityLevel::may;
  return p;
}

dns::TlsaRecord rec(int usage, int selector, int mtype, std::size_t len = 32) {
  return {static_cast<uint8_t>(usage), static_cast<uint8_t>(selector), static_cast<uint8_t>(mtype), std::string(len, 'x')};
}

DaneFacts secure_facts(std::vector<dns::TlsaRecord> records = {rec(3, 1, 1)}) {
  DaneFacts f;
  f.validating = true;
  f.mx_present = true;
  f.mx_security = Security::secure;
  f.address_security = Security::secure;
  f.tlsa = TlsaLookup::found;
  f.tlsa_security = Security::secure;
  f.tlsa_name = "_25._tcp.mx.example";
  f.records_total = records.size();
  f.records = std::move(records);
  return f;
}

struct Expect {
  DaneMode mode;
  Reason reason;
};

void expect_both(const DaneFacts& f, Expect at_dane, Expect at_dane_only) {
  const auto d = decide_dane(dane_profile(SecurityLevel::dane), f);
  EXPECT_EQ(d.mode, at_dane.mode) << "dane: " << d.why;
  EXPECT_EQ(d.reason, at_dane.reason) << "dane: " << d.why;
  const auto o = decide_dane(dane_profile(SecurityLevel::dane_only), f);
  EXPECT_EQ(o.mode, at_dane_only.mode) << "dane-only: " << o.why;
  EXPECT_EQ(o.reason, at_dane_only.reason) << "dane-only: " << o.why;
}

TEST(DaneDecision, UsableSecureTlsaAuthenticates) {
  expect_both(secure_facts(), {DaneMode::dane, Reason::ok}, {DaneMode::dane, Reason::ok});
  EXPECT_EQ(decide_dane(dane_profile(SecurityLevel::dane), secure_facts()).usable, 1u);
  EXPECT_TRUE(dane_wants_tlsa(dane_profile(SecurityLevel::dane_only), secure_facts()));
}

TEST(DaneDecision, NoTlsaIsMayAtDaneAndDeferredAtDaneOnly) {
  auto f = secure_facts({});
  f.tlsa = TlsaLookup::not_found;
  expect_both(f, {DaneMode::may, Reason::ok}, {DaneMode::defer, Reason::dane_required});
}

TEST(DaneDecision, InsecureMxRRset) {
  auto f = secure_facts();
  f.mx_security = Security::insecure;
  // At dane the default smtp_tls_dane_insecure_mx_policy is dane: the
  // host's own TLSA still counts ("half-dane"); dane-only never accepts it.
  expect_both(f, {DaneMode::dane, Reason::ok}, {DaneMode::defer, Reason::dane_required});
  EXPECT_TRUE(decide_dane(dane_profile(SecurityLevel::dane), f).half_dane);
  auto may = dane_profile(SecurityLevel::dane);
  may.dane_insecure_mx = SecurityLevel::may;
  EXPECT_EQ(decide_dane(may, f).mode, DaneMode::may);
  EXPECT_FALSE(dane_wants_tlsa(may, f));
  auto encrypt = dane_profile(SecurityLevel::dane);
  encrypt.dane_insecure_mx = SecurityLevel::encrypt;
  EXPECT_EQ(decide_dane(encrypt, f).mode, DaneMode::encrypt);
  // No MX RRset (a literal [host] or the implicit MX): only the host counts.
  f.mx_present = false;
  expect_both(f, {DaneMode::dane, Reason::ok}, {DaneMode::dane, Reason::ok});
}

TEST(DaneDecision, InsecureAddressRecordsMeanNoLookup) {
  auto f = secure_facts();
  f.address_security = Security::insecure;
  EXPECT_FALSE(dane_wants_tlsa(dane_profile(SecurityLevel::dane), f));
  expect_both(f, {DaneMode::may, Reason::ok}, {DaneMode::defer, Reason::dane_required});
}

TEST(DaneDecision, LookupFailuresDeferAtBothLevels) {
  auto f = secure_facts({});
  f.tlsa = TlsaLookup::bogus;
  expect_both(f, {DaneMode::defer, Reason::dnssec_bogus}, {DaneMode::defer, Reason::dnssec_bogus});
  f.tlsa = TlsaLookup::error;
  expect_both(f, {DaneMode::defer, Reason::dns_failure}, {DaneMode::defer, Reason::dns_failure});
}

TEST(DaneDecision, UnusableRecordsFallBackToEncryptOrDefer) {
  // Dropped when Postfix reads them (PKIX usages, private matching type) ...
  expect_both(secure_facts({rec(0, 0, 1), rec(1, 1, 1), rec(3, 1, 255)}), {DaneMode::encrypt, Reason::tlsa_unusable},
              {DaneMode::defer, Reason::tlsa_unusable});
  // ... or refused by OpenSSL at the handshake: the same verdict.
  expect_both(secure_facts({rec(3, 2, 1), rec(2, 1, 1, 16)}), {DaneMode::encrypt, Reason::tlsa_unusable},
              {DaneMode::defer, Reason::tlsa_unusable});
  // One usable record is enough.
  expect_both(secure_facts({rec(0, 0, 1), rec(2, 0, 1)}), {DaneMode::dane, Reason::ok}, {DaneMode::dane, Reason::ok});
}

TEST(DaneDecision, WithoutDnssecLookupsDaneIsMayAndDaneOnlyDefers) {
  auto dane = dane_profile(SecurityLevel::dane), only = dane_profile(SecurityLevel::dane_only);
  dane.dane_dnssec_lookups = only.dane_dnssec_lookups = false;
  EXPECT_EQ(decide_dane(dane, secure_facts()).mode, DaneMode::may);
  EXPECT_EQ(decide_dane(only, secure_facts()).reason, Reason::dane_required);
}

TEST(DaneDecision, NoValidationMeansEverythingInsecure) {
  DaneFacts f;  // what a resolver without trust anchor reports
  f.mx_present = true;
  expect_both(f, {DaneMode::may, Reason::ok}, {DaneMode::defer, Reason::dane_required});
  EXPECT_NE(decide_dane(dane_profile(SecurityLevel::dane_only), f).why.find("trust_anchor"), std::string::npos);
}

// --- verdicts ---------------------------------------------------------------

MxProbe host(DaneFacts facts) {
  MxProbe mx;
  mx.host = "mx.example";
  mx.address = "192.0.2.1";
  mx.starttls_offered = true;
  mx.starttls_code = 220;
  mx.dane = std::move(facts);
  return mx;
}

MxProbe dane_handshake(bool authenticated, std::time_t not_after = std::time(nullptr) + 90 * 86400) {
  auto mx = host(secure_facts());
  mx.compat.attempted = mx.compat.ok = true;
  mx.compat.version = "TLSv1.3";
  auto& d = mx.compat.dane;
  d.enabled = true;
  d.usable = 1;
  d.record_depths = {authenticated ? 0 : -1};
  if (authenticated) {
    d.verify_result = 0;
    d.matched_record = 0;
    d.matched_depth = 0;
    d.matched_subject = "CN=mx.example";
    d.matched_not_after = not_after;
  } else {
    d.verify_result = X509_V_ERR_DANE_NO_MATCH;
  }
  return mx;
}

TEST(DaneVerdict, MatchingTlsaIsTls) {
  for (auto level : {SecurityLevel::dane, SecurityLevel::dane_only}) {
    const auto v = classify_host(dane_handshake(true), dane_profile(level));
    EXPECT_EQ(v.outcome, Outcome::tls);
    EXPECT_EQ(v.reason, Reason::ok) << v.detail;
  }
}

TEST(DaneVerdict, MismatchDefersAtBothLevels) {
  for (auto level : {SecurityLevel::dane, SecurityLevel::dane_only}) {
    const auto v = classify_host(dane_handshake(false), dane_profile(level));
    EXPECT_EQ(v.outcome, Outcome::deferred);
    EXPECT_EQ(v.reason, Reason::tlsa_mismatch);
    EXPECT_EQ(v.severity, Severity::incompatible);
    EXPECT_EQ(reason_info(v.reason).rfc8460, "tlsa-invalid");
  }
}

TEST(DaneVerdict, TaMatchWithAFailingChainNamesTheChainProblem) {
  auto mx = dane_handshake(false);
  mx.dane = secure_facts({rec(2, 0, 1)});
  mx.compat.dane.record_depths = {1};  // the issuer matches ...
  mx.compat.dane.verify_result = X509_V_ERR_HOSTNAME_MISMATCH;  // ... the leaf lacks the name
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane)).reason, Reason::cert_host_mismatch);
  mx.compat.dane.record_depths = {0};  // DANE-TA on the leaf itself is no match
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane)).reason, Reason::tlsa_mismatch);
}

TEST(DaneVerdict, MatchOnlyOnACertificateExpiringSoonIsAWarning) {
  auto p = dane_profile(SecurityLevel::dane);
  p.expiry_warning = std::chrono::hours(24 * 14);
  const auto v = classify_host(dane_handshake(true, std::time(nullptr) + 3 * 86400), p);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.reason, Reason::tlsa_expiring);
  EXPECT_EQ(v.severity, Severity::warning);
  p.expiry_warning = std::chrono::hours(24);
  EXPECT_EQ(classify_host(dane_handshake(true, std::time(nullptr) + 3 * 86400), p).reason, Reason::ok);
}

TEST(DaneVerdict, AuthenticatedLevelNeverFallsBackToPlaintext) {
  auto mx = host(secure_facts());
  mx.starttls_offered = false;
  mx.starttls_code = 0;
  for (auto level : {SecurityLevel::dane, SecurityLevel::dane_only})
    EXPECT_EQ(classify_host(mx, dane_profile(level)).outcome, Outcome::deferred);
  // Without TLSA, dane is may: plaintext at once.
  mx.dane = secure_facts({});
  mx.dane.tlsa = TlsaLookup::not_found;
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane)).outcome, Outcome::plaintext);
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane_only)).reason, Reason::dane_required);
}

TEST(DaneVerdict, UnusableRecordsDeliverUnauthenticatedWithAWarning) {
  auto mx = host(secure_facts({rec(1, 1, 1)}));
  mx.compat.attempted = mx.compat.ok = true;
  mx.compat.version = "TLSv1.3";
  const auto v = classify_host(mx, dane_profile(SecurityLevel::dane));
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.reason, Reason::tlsa_unusable);
  EXPECT_EQ(v.severity, Severity::warning);
  const auto o = classify_host(mx, dane_profile(SecurityLevel::dane_only));
  EXPECT_EQ(o.outcome, Outcome::deferred);
  EXPECT_EQ(o.reason, Reason::tlsa_unusable);
  mx.starttls_offered = false;  // encrypt: no STARTTLS defers
  mx.starttls_code = 0;
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane)).outcome, Outcome::deferred);
}

TEST(DaneVerdict, DaneOnlyDefersBeforeConnecting) {
  auto mx = host(secure_facts({}));
  mx.dane.tlsa = TlsaLookup::not_found;
  mx.failure = Reason::connect_failed;  // Postfix would not even have tried
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane_only)).reason, Reason::dane_required);
  mx.failure = Reason::dnssec_bogus;  // the address lookup comes first
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::dane_only)).reason, Reason::dnssec_bogus);
}

TEST(DaneVerdict, BogusMxDefersTheDestination) {
  DestinationProbe d;
  d.domain = "bogus.example";
  d.dns_failure = Reason::dnssec_bogus;
  d.dns_detail = "bogus.example MX: DNSSEC bogus";
  const auto v = classify_destination(d, dane_profile(SecurityLevel::dane));
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
  EXPECT_EQ(v.overall.severity, Severity::incompatible);
  EXPECT_EQ(reason_info(Reason::dnssec_bogus).rfc8460, "dnssec-invalid");
  EXPECT_EQ(reason_info(Reason::dane_required).rfc8460, "dane-required");
}

TEST(DaneVerdict, OtherLevelsIgnoreDane) {
  auto mx = dane_handshake(false);
  mx.compat.host_matches = true;
  EXPECT_EQ(classify_host(mx, dane_profile(SecurityLevel::encrypt)).outcome, Outcome::tls);
}

// --- matching ---------------------------------------------------------------

X509* make_cert(EVP_PKEY* key, const char* cn, X509* issuer = nullptr, EVP_PKEY* issuer_key = nullptr) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert));
  X509_set_pubkey(cert, key);
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string digest(X509* cert, int selector, const EVP_MD* md) {
  unsigned char* der = nullptr;
  const int len = selector == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), out, &out_len, md, nullptr);
  OPENSSL_free(der);
  return std::string(reinterpret_cast<char*>(out), out_len);
}

TEST(DaneMatching, FindsTheDepthEachRecordMatches) {
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* leaf_key = EVP_EC_gen("P-256");
  X509* ca = make_cert(ca_key, "lab CA");
  X509* leaf = make_cert(leaf_key, "mx.example", ca, ca_key);
  const std::vector<X509*> chain{leaf, ca};
  const dns::TlsaRecord ee{3, 1, 1, digest(leaf, 1, EVP_sha256())};
  const dns::TlsaRecord ta{2, 0, 2, digest(ca, 0, EVP_sha512())};
  const dns::TlsaRecord stale{3, 1, 1, std::string(32, 'z')};
  EXPECT_EQ(tlsa_match_depth(ee, chain), 0);
  EXPECT_EQ(tlsa_match_depth(ta, chain), 1);
  EXPECT_EQ(tlsa_match_depth(stale, chain), -1);

  // The report explains each one.
  auto facts = secure_facts({ee, ta, stale, rec(1, 1, 1)});
  DaneOutcome out;
  out.enabled = true;
  out.verify_result = 0;
  out.matched_record = 0;
  out.matched_depth = 0;
  out.matched_subject = "CN=mx.example";
  out.record_depths = {0, 1, -1};  // the three records Postfix keeps
  const auto rep = explain_tlsa(facts, out, 10, 8);
  ASSERT_EQ(rep.size(), 4u);
  EXPECT_EQ(rep[0].status, "matched");
  EXPECT_EQ(rep[1].status, "no_match");  // did not decide, but would chain to depth 1
  EXPECT_EQ(rep[2].status, "no_match");
  EXPECT_NE(rep[2].why.find("no certificate"), std::string::npos);
  EXPECT_EQ(rep[3].status, "unusable");
  EXPECT_EQ(explain_tlsa(facts, out, 2, 8).size(), 2u);  // bounded
  X509_free(leaf);
  X509_free(ca);
  EVP_PKEY_free(leaf_key);
  EVP_PKEY_free(ca_key);
}

}  // namespace
}  // namespace mxtls
