// classify/: reason table and the classifier's judgement of evidence under
// each security level. Evidence is built by hand: the classifier is pure.
#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <algorithm>
#include <set>

#include "classify/classifier.h"

namespace mxtls {
namespace {

ClientProfile profile(SecurityLevel level, const char* protocols = ">=TLSv1.2") {
  ClientProfile p;
  p.name = "test";
  p.level = level;
  p.versions = *parse_protocols(protocols).versions;
  p.match = {"hostname"};
  return p;
}

CertificateInfo cert(const std::string& sha, int bits = 2048) {
  CertificateInfo c;
  c.subject = "CN=mx.example";
  c.key_type = "RSA";
  c.key_bits = bits;
  c.sha256 = sha;
  return c;
}

MxProbe reached_tls() {
  MxProbe mx;
  mx.host = "mx.example";
  mx.address = "192.0.2.1";
  mx.starttls_offered = true;
  mx.starttls_code = 220;
  return mx;
}

MxProbe completed(std::vector<int> verify_codes = {}) {
  auto mx = reached_tls();
  mx.compat.attempted = mx.compat.ok = true;
  mx.compat.version = "TLSv1.3";
  mx.compat.host_matches = true;
  mx.compat.chain = {cert("AA")};
  for (int code : verify_codes) mx.compat.verify_issues.push_back({0, code, "x"});
  return mx;
}

void survey_ok(MxProbe& mx, TlsVersion v, const std::string& digest = "SHA256", const std::string& sha = "AA") {
  auto& s = mx.survey[static_cast<std::size_t>(v)];
  s.attempted = s.ok = true;
  s.peer_signature_digest = digest;
  s.chain = {cert(sha)};
}

MxProbe failed_handshake(int alert, int ssl_reason = 0) {
  auto mx = reached_tls();
  mx.compat.attempted = true;
  mx.compat.alert_received = alert;
  mx.compat.ssl_reason = ssl_reason;
  mx.compat.error = "handshake failure";
  return mx;
}

TEST(Reasons, CodesAreUniqueAndRoundTrip) {
  std::set<std::string_view> codes;
  for (const auto& r : all_reasons()) {
    EXPECT_TRUE(codes.insert(r.code).second) << r.code;
    EXPECT_EQ(reason_from_code(r.code), r.reason);
    EXPECT_FALSE(r.remediation.empty()) << r.code;
  }
  EXPECT_FALSE(reason_from_code("nonsense"));
  EXPECT_TRUE(reason_info(Reason::timeout).transport);
  EXPECT_FALSE(reason_info(Reason::protocol_version).transport);
  EXPECT_EQ(reason_info(Reason::cert_expired).rfc8460, "certificate-expired");
}

TEST(Classifier, TransportFailureIsUnreachableAndDeferred) {
  MxProbe mx;
  mx.failure = Reason::connect_failed;
  const auto v = classify_host(mx, profile(SecurityLevel::may));
  EXPECT_EQ(v.reason, Reason::connect_failed);
  EXPECT_EQ(v.severity, Severity::unreachable);
  EXPECT_EQ(v.outcome, Outcome::deferred);
}

TEST(Classifier, NoStarttlsFallsBackUnderMayDefersUnderEncrypt) {
  auto mx = reached_tls();
  mx.starttls_offered = false;
  mx.starttls_code = 0;
  auto v = classify_host(mx, profile(SecurityLevel::may));
  EXPECT_EQ(v.reason, Reason::starttls_not_offered);
  EXPECT_EQ(v.outcome, Outcome::plaintext);
  EXPECT_EQ(v.severity, Severity::warning);
  v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.outcome, Outcome::deferred);
  EXPECT_EQ(v.severity, Severity::incompatible);
}

TEST(Classifier, StarttlsRefused) {
  auto mx = reached_tls();
  mx.starttls_code = 454;
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::may)).reason, Reason::starttls_refused);
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::may)).outcome, Outcome::plaintext);
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::encrypt)).outcome, Outcome::deferred);
}

TEST(Classifier, VersionMismatchFromSurvey) {
  auto mx = failed_handshake(SSL_AD_PROTOCOL_VERSION, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  survey_ok(mx, TlsVersion::tls1_0, "MD5-SHA1");
  const auto v = classify_host(mx, profile(SecurityLevel::may));
  EXPECT_EQ(v.reason, Reason::protocol_version);
  EXPECT_EQ(v.outcome, Outcome::plaintext_after_delay);
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::encrypt)).outcome, Outcome::deferred);
}

TEST(Classifier, TlsV1OnlyServerIsAVersionMismatchAtSecurityLevelOne) {
  auto mx = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  survey_ok(mx, TlsVersion::tls1_0, "MD5-SHA1");
  auto p = profile(SecurityLevel::secure, ">=TLSv1");
  p.openssl_security_level = 1;
  EXPECT_EQ(classify_host(mx, p).reason, Reason::protocol_version);
}

TEST(Classifier, HandshakeFailureWithSha1OnlyServerIsLegacySigalg) {
  auto mx = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  survey_ok(mx, TlsVersion::tls1_2, "SHA1");
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::encrypt)).reason, Reason::legacy_sigalg);
}

TEST(Classifier, HandshakeFailureWithVersionInCommonIsNoSharedCipher) {
  auto mx = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  survey_ok(mx, TlsVersion::tls1_2, "SHA256");
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::encrypt)).reason, Reason::no_shared_cipher);
}

TEST(Classifier, StalledHandshakeIsTransientNotAnIncompatibility) {
  auto mx = failed_handshake(-1);
  mx.compat.timed_out = true;
  mx.compat.error = "timed out during the TLS handshake";
  auto v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.reason, Reason::timeout);
  EXPECT_EQ(v.severity, Severity::unreachable);  // not cached; the scheduler backs off and retries
  EXPECT_EQ(v.outcome, Outcome::deferred);
  EXPECT_NE(v.detail.find("stalled"), std::string::npos) << v.detail;
  // Postfix's own answer to a stall under `may`: defer, then plaintext.
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::may)).outcome, Outcome::plaintext_after_delay);
}

TEST(Reasons, ProtocolViolationIsItsOwnTransportReason) {
  const auto& info = reason_info(Reason::smtp_protocol_violation);
  EXPECT_EQ(info.code, "smtp_protocol_violation");
  EXPECT_EQ(info.rfc8460, "validation-failure");
  EXPECT_TRUE(info.transport);
  // Appended after the reasons before it (stored and logged codes stay put).
  EXPECT_EQ(static_cast<int>(Reason::smtp_protocol_violation), static_cast<int>(Reason::probe_error) + 1);
}

TEST(Classifier, UnexplainedFailureStaysGeneric) {
  auto mx = failed_handshake(-1);
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::encrypt)).reason, Reason::handshake_failed);
}

TEST(Classifier, CertificateProblemsBreakOnlyAuthenticatedLevels) {
  const auto mx = completed({X509_V_ERR_CERT_HAS_EXPIRED});
  auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_EQ(v.outcome, Outcome::deferred);
  EXPECT_EQ(v.severity, Severity::incompatible);
  v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.severity, Severity::warning);
}

TEST(Classifier, VerifyCodesMapToReasons) {
  const std::pair<int, Reason> cases[] = {
      {X509_V_ERR_CERT_NOT_YET_VALID, Reason::cert_not_yet_valid},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, Reason::cert_self_signed},
      {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, Reason::cert_self_signed},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, Reason::cert_untrusted_chain},
      {X509_V_ERR_EE_KEY_TOO_SMALL, Reason::weak_key},
  };
  for (const auto& [code, reason] : cases) EXPECT_EQ(classify_host(completed({code}), profile(SecurityLevel::secure)).reason, reason) << code;
}

TEST(Classifier, ExpiryOutranksOtherFindings) {
  auto mx = completed({X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_CERT_HAS_EXPIRED});
  mx.compat.host_matches = false;
  const auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_EQ(v.findings.size(), 3u);
}

TEST(Classifier, HostMismatchBreaksSecure) {
  auto mx = completed();
  mx.compat.host_matches = false;
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::secure)).outcome, Outcome::deferred);
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::may)).severity, Severity::warning);
}

TEST(Classifier, WeakKeySeenByInspectionIsAWarningWhenOpenSslAccepts) {
  auto mx = completed();
  mx.compat.chain = {cert("AA", 1024)};
  const auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::weak_key);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.severity, Severity::warning);
}

TEST(Classifier, DifferentCertificateWithoutSniLeads) {
  auto mx = completed();
  mx.compat.host_matches = false;
  survey_ok(mx, TlsVersion::tls1_3, "SHA256", "BB");
  const auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::sni_dependent);
  EXPECT_EQ(v.outcome, Outcome::deferred);
}

TEST(Classifier, HealthyIsOk) {
  auto mx = completed();
  survey_ok(mx, TlsVersion::tls1_3);
  const auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::ok);
  EXPECT_EQ(v.severity, Severity::ok);
  EXPECT_TRUE(v.findings.empty());
}

TEST(Classifier, DestinationBackupMxDeliversButWarns) {
  DestinationProbe d;
  d.domain = "example";
  auto bad = reached_tls();
  bad.starttls_offered = false;
  d.hosts = {bad, completed()};
  const auto v = classify_destination(d, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.overall.reason, Reason::starttls_not_offered);
}

// Postfix moves to the next address after a failed handshake, even under
// may: the first attempt already goes out over TLS through the next one,
// not in plaintext after a delay through the first.
TEST(Classifier, AddressAfterAFailedHandshakeDeliversAtOnce) {
  DestinationProbe d;
  d.domain = "example";
  auto broken = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  broken.address = "2001:db8::1";
  survey_ok(broken, TlsVersion::tls1_2);
  auto working = completed();
  survey_ok(working, TlsVersion::tls1_3);
  d.hosts = {broken, working};
  const auto v = classify_destination(d, profile(SecurityLevel::may));
  EXPECT_EQ(v.decisive, 1u);
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.overall.reason, Reason::no_shared_cipher);
  EXPECT_NE(v.overall.detail.find("tried first, failed: mx.example[2001:db8::1]:25"), std::string::npos) << v.overall.detail;
}

// When no address takes the mail at once, the retry after
// minimal_backoff_time goes out in plaintext through the first whose
// handshake failed; addresses that cannot be reached at all do not count.
TEST(Classifier, PlaintextAfterDelayOnlyWhenNoAddressDeliversAtOnce) {
  DestinationProbe d;
  auto refused = reached_tls();
  refused.failure = Reason::connect_failed;
  auto broken = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  d.hosts = {refused, broken};
  const auto v = classify_destination(d, profile(SecurityLevel::may));
  EXPECT_EQ(v.decisive, 1u);
  EXPECT_EQ(v.overall.outcome, Outcome::plaintext_after_delay);
  d.hosts = {refused, refused};
  EXPECT_EQ(classify_destination(d, profile(SecurityLevel::may)).overall.outcome, Outcome::deferred);
}

TEST(Classifier, SlowGreetingIsAFindingOfAWorkingHost) {
  auto mx = completed();
  survey_ok(mx, TlsVersion::tls1_3);
  mx.greeting_s = 12.3;
  auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::slow_greeting);
  EXPECT_EQ(v.severity, Severity::warning);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_NE(v.detail.find("12.3s"), std::string::npos);
  // A worse problem keeps its place; the slow greeting is noted beside it.
  auto expired = completed({X509_V_ERR_CERT_HAS_EXPIRED});
  expired.greeting_s = 12.3;
  v = classify_host(expired, profile(SecurityLevel::may));
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_NE(std::find(v.findings.begin(), v.findings.end(), Reason::slow_greeting), v.findings.end());
  mx.greeting_s = 6.0;  // postscreen's pause: not slow
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::secure)).reason, Reason::ok);
}

TEST(Classifier, DnsOutcomes) {
  DestinationProbe d;
  d.dns_failure = Reason::nxdomain;
  EXPECT_EQ(classify_destination(d, profile(SecurityLevel::may)).overall.outcome, Outcome::bounced);
  d.dns_failure = Reason::dns_failure;
  EXPECT_EQ(classify_destination(d, profile(SecurityLevel::may)).overall.outcome, Outcome::deferred);
}

// Handshake details: the server's DH group, anonymous sessions, a demanded
// client certificate.
TEST(Reasons, HandshakeDetailReasonsAreKeyExchangeNotCertificateProblems) {
  for (Reason r : {Reason::dh_too_small, Reason::client_cert_required}) {
    EXPECT_EQ(reason_info(r).rfc8460, "validation-failure") << reason_code(r);
    EXPECT_FALSE(is_certificate_reason(r));
    EXPECT_FALSE(reason_info(r).transport);
  }
  EXPECT_NE(reason_info(Reason::dh_too_small).remediation.find("ECDHE"), std::string_view::npos);
  // Appended after the reasons before them (stored and logged codes stay put).
  EXPECT_EQ(static_cast<int>(Reason::dh_too_small), static_cast<int>(Reason::sts_policy_invalid) + 1);
}

TEST(Classifier, RefusedDhGroupIsDhTooSmallWithItsSizeFromTheSurvey) {
  auto mx = failed_handshake(-1, SSL_R_DH_KEY_TOO_SMALL);
  survey_ok(mx, TlsVersion::tls1_2);
  mx.survey[static_cast<std::size_t>(TlsVersion::tls1_2)].dh_bits = 768;
  auto v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.reason, Reason::dh_too_small);
  EXPECT_EQ(v.outcome, Outcome::deferred);
  EXPECT_NE(v.detail.find("768 bits"), std::string::npos) << v.detail;
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::may)).outcome, Outcome::plaintext_after_delay);
}

TEST(Classifier, AcceptedSmallDhGroupIsAWarningAndALargeOneIsNot) {
  auto mx = completed();
  mx.compat.dh_bits = 1024;
  auto v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::dh_too_small);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.severity, Severity::warning);
  mx.compat.dh_bits = 2048;
  v = classify_host(mx, profile(SecurityLevel::secure));
  EXPECT_EQ(v.reason, Reason::ok);
  EXPECT_EQ(v.severity, Severity::ok);
}

TEST(Classifier, AnonymousSessionHasNoCertificateFindings) {
  auto mx = completed();
  mx.compat.chain.clear();
  mx.compat.host_matches = false;  // nothing to match: no certificate
  mx.compat.cipher = "AECDH-AES256-SHA";
  auto v = classify_host(mx, profile(SecurityLevel::may));
  EXPECT_EQ(v.reason, Reason::ok);
  EXPECT_EQ(v.severity, Severity::ok);
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_NE(v.detail.find("anonymous"), std::string::npos) << v.detail;
  // Without a certificate an authenticated level cannot succeed.
  EXPECT_EQ(classify_host(mx, profile(SecurityLevel::secure)).outcome, Outcome::deferred);
}

TEST(Classifier, AnonymousSessionTakesCertificateFindingsFromAHandshakeThatGotOne) {
  auto mx = completed();
  mx.compat.chain.clear();
  survey_ok(mx, TlsVersion::tls1_2, "SHA256", "BB");
  auto& leaf = mx.survey[static_cast<std::size_t>(TlsVersion::tls1_2)].chain.front();
  leaf.not_after = std::time(nullptr) - 86400;
  const auto v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_EQ(v.severity, Severity::warning);
  EXPECT_EQ(v.outcome, Outcome::tls);
  // The survey has no trust anchors: its chain is not judged for trust or names.
  EXPECT_EQ(v.findings, std::vector<Reason>{Reason::cert_expired});
}

TEST(Classifier, AlertAfterCertificateRequestIsClientCertRequired) {
  auto mx = failed_handshake(SSL_AD_HANDSHAKE_FAILURE);
  mx.compat.client_cert_requested = true;
  survey_ok(mx, TlsVersion::tls1_2);
  auto v = classify_host(mx, profile(SecurityLevel::encrypt));
  EXPECT_EQ(v.reason, Reason::client_cert_required);
  EXPECT_EQ(v.outcome, Outcome::deferred);
  // Asked for, but the handshake failed without an alert from the server: not that.
  mx.compat.alert_received = -1;
  EXPECT_NE(classify_host(mx, profile(SecurityLevel::encrypt)).reason, Reason::client_cert_required);
}

}  // namespace
}  // namespace mxtls
