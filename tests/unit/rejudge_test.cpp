// classify/rejudge: stored probe facts judged under other client settings
// without probing: what a raised version floor, OpenSSL security level 1,
// another CA file or a mandatory level does to each kind of server, and
// "unknown" where the facts cannot tell (a cipher no longer offered, a
// failed handshake under looser settings).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "classify/rejudge.h"
#include "test_certificates.h"

namespace mxtls {
namespace {

ProbeSettings may_settings(const std::string& ca_file) {
  ProbeSettings s;
  s.profile = "postfix";
  s.level = SecurityLevel::may;
  s.versions = kAllVersions;
  s.cipher_list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
  s.ca_file = ca_file;
  return s;
}

// The postfix profile's shape at `level` (Postfix's defaults otherwise).
ClientProfile postfix_at(SecurityLevel level, const std::string& ca_file, const char* protocols = "!SSLv2,!SSLv3") {
  ClientProfile p;
  p.name = "postfix";
  p.level = level;
  p.versions = *parse_protocols(protocols).versions;
  p.cipher_list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
  p.openssl_security_level = level_authenticates(level) ? 1 : 0;
  p.ca_file = ca_file;
  p.match = {"nexthop", "dot-nexthop"};
  return p;
}

struct RejudgeTest : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mxtls-rejudge-test-" + std::to_string(getpid()));
  std::unique_ptr<testing::TestCa> ca, other_ca;
  void SetUp() override {
    std::filesystem::create_directories(dir);
    ca = std::make_unique<testing::TestCa>("lab CA", dir / "ca.pem");
    other_ca = std::make_unique<testing::TestCa>("other CA", dir / "other.pem");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // One MX host whose compat handshake at may completed as given; verified against the lab CA.
  ProbeFacts facts(const std::string& version, const std::string& cipher, const std::string& digest = "SHA256") {
    ProbeFacts f;
    f.settings = may_settings(ca->pem());
    f.probe.domain = "example.test";
    MxProbe mx;
    mx.host = "mx.example.test";
    mx.address = "192.0.2.1";
    mx.starttls_offered = true;
    mx.starttls_code = 220;
    auto& hs = mx.compat;
    hs.attempted = hs.ok = true;
    hs.version = version;
    hs.cipher = cipher;
    hs.peer_signature_digest = digest;
    hs.chain = {ca->leaf("mx.example.test"), ca->info()};
    f.probe.hosts = {mx};
    f.names = {{true, false, true}};
    return f;
  }
  Verdict judged(const ProbeFacts& f, const ClientProfile& p) {
    const Rejudged r = rejudge_probe(f, p, std::time(nullptr));
    EXPECT_TRUE(r.verdict) << r.unknown;
    return r.verdict ? r.verdict->overall : Verdict{};
  }
};

TEST_F(RejudgeTest, UnchangedSettingsGiveTheProbesOwnVerdict) {
  const auto v = judged(facts("TLSv1.3", "TLS_AES_256_GCM_SHA384"), postfix_at(SecurityLevel::may, ca->pem()));
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.reason, Reason::ok);
}

TEST_F(RejudgeTest, AVersionFloorAboveWhatTheServerNegotiatedFailsTheHandshake) {
  // The server chose TLSv1.1 when offered up to TLSv1.3: it speaks nothing newer. No survey needed.
  const auto f = facts("TLSv1.1", "ECDHE-ECDSA-AES256-SHA");
  const auto floor = judged(f, postfix_at(SecurityLevel::may, ca->pem(), ">=TLSv1.2"));
  EXPECT_EQ(floor.outcome, Outcome::plaintext_after_delay);
  EXPECT_EQ(floor.reason, Reason::protocol_version);
  // secure: OpenSSL level 1 refuses TLSv1.0/1.1 as well.
  const auto secure = judged(f, postfix_at(SecurityLevel::secure, ca->pem()));
  EXPECT_EQ(secure.outcome, Outcome::deferred);
  EXPECT_EQ(secure.reason, Reason::protocol_version);
  // A healthy TLSv1.3 server is not touched by the floor.
  EXPECT_EQ(judged(facts("TLSv1.3", "TLS_AES_256_GCM_SHA384"), postfix_at(SecurityLevel::may, ca->pem(), ">=TLSv1.2")).outcome,
            Outcome::tls);
}

TEST_F(RejudgeTest, LevelOneRefusesASha1SignatureAndAnonymousCiphersAreUnknown) {
  const auto legacy = judged(facts("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "SHA1"), postfix_at(SecurityLevel::secure, ca->pem()));
  EXPECT_EQ(legacy.outcome, Outcome::deferred);
  EXPECT_EQ(legacy.reason, Reason::legacy_sigalg);
  // encrypt stays at level 0: the same handshake, now mandatory.
  EXPECT_EQ(judged(facts("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "SHA1"), postfix_at(SecurityLevel::encrypt, ca->pem())).outcome,
            Outcome::tls);

  auto anon = facts("TLSv1.2", "ADH-AES256-GCM-SHA384");
  anon.probe.hosts[0].compat.chain.clear();
  EXPECT_EQ(judged(anon, postfix_at(SecurityLevel::encrypt, ca->pem())).outcome, Outcome::tls);
  const Rejudged r = rejudge_probe(anon, postfix_at(SecurityLevel::secure, ca->pem()), std::time(nullptr));
  EXPECT_FALSE(r.verdict);
  EXPECT_NE(r.unknown.find("ADH-AES256-GCM-SHA384 (anonymous), which the proposed settings do not offer"), std::string::npos)
      << r.unknown;

  // The survey (every cipher offered) got a certificate with a cipher level 1 offers: judged with that one.
  auto& s = anon.probe.hosts[0].survey[static_cast<std::size_t>(TlsVersion::tls1_2)];
  s.attempted = s.ok = true;
  s.version = "TLSv1.2";
  s.cipher = "ECDHE-ECDSA-AES256-GCM-SHA384";
  s.peer_signature_digest = "SHA256";
  s.sni_sent = true;
  s.chain = {ca->leaf("mx.example.test"), ca->info()};
  const Rejudged with_survey = rejudge_probe(anon, postfix_at(SecurityLevel::secure, ca->pem()), std::time(nullptr));
  ASSERT_TRUE(with_survey.verdict) << with_survey.unknown;
  EXPECT_EQ(with_survey.verdict->overall.outcome, Outcome::tls);
  ASSERT_EQ(with_survey.notes.size(), 1u);
  EXPECT_NE(with_survey.notes[0].find("judged with ECDHE-ECDSA-AES256-GCM-SHA384"), std::string::npos);
  // ... and its chain is verified: against another CA it fails.
  EXPECT_EQ(rejudge_probe(anon, postfix_at(SecurityLevel::secure, other_ca->pem()), std::time(nullptr)).verdict->overall.outcome,
            Outcome::deferred);
}

// An anonymous session: the certified handshake (every cipher but the
// anonymous ones) decides the mandatory levels, when the server took one
// with its certificate, and when it refused (it has none to offer).
TEST_F(RejudgeTest, TheCertifiedHandshakeJudgesAnAnonymousSessionAtMandatoryLevels) {
  auto anon = facts("TLSv1.2", "ADH-AES256-GCM-SHA384");
  anon.probe.hosts[0].compat.chain.clear();
  auto& c = anon.probe.hosts[0].certified;
  c.attempted = c.ok = true;
  c.version = "TLSv1.2";
  c.cipher = "ECDHE-RSA-AES256-GCM-SHA384";
  c.peer_signature_digest = "SHA256";
  c.chain = {ca->leaf("mx.example.test"), ca->info()};
  const Rejudged taken = rejudge_probe(anon, postfix_at(SecurityLevel::secure, ca->pem()), std::time(nullptr));
  ASSERT_TRUE(taken.verdict) << taken.unknown;
  EXPECT_EQ(taken.verdict->overall.outcome, Outcome::tls);
  ASSERT_EQ(taken.notes.size(), 1u);
  EXPECT_NE(taken.notes[0].find("judged with ECDHE-RSA-AES256-GCM-SHA384, which it took offered no anonymous cipher"),
            std::string::npos) << taken.notes[0];
  // verify matches the MX host name (the leaf names it); another CA does not verify.
  ClientProfile verify = postfix_at(SecurityLevel::verify, ca->pem());
  verify.match = {"hostname"};
  EXPECT_EQ(judged(anon, verify).outcome, Outcome::tls);
  EXPECT_EQ(judged(anon, postfix_at(SecurityLevel::secure, other_ca->pem())).outcome, Outcome::deferred);

  // The server took no cipher with a certificate: no shared cipher at secure, unchanged at encrypt.
  c = HandshakeResult{};
  c.attempted = true;
  c.error = "sslv3 alert handshake failure";
  c.alert_received = SSL_AD_HANDSHAKE_FAILURE;
  const auto refused = judged(anon, postfix_at(SecurityLevel::secure, ca->pem()));
  EXPECT_EQ(refused.outcome, Outcome::deferred);
  EXPECT_EQ(refused.reason, Reason::no_shared_cipher);
  EXPECT_EQ(judged(anon, postfix_at(SecurityLevel::encrypt, ca->pem())).outcome, Outcome::tls);
  // A certified handshake that timed out tells nothing.
  c.alert_received = -1;
  c.timed_out = true;
  EXPECT_FALSE(rejudge_probe(anon, postfix_at(SecurityLevel::secure, ca->pem()), std::time(nullptr)).verdict);
}

TEST_F(RejudgeTest, AnotherCaFileReverifiesTheStoredChain) {
  const auto f = facts("TLSv1.3", "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(judged(f, postfix_at(SecurityLevel::secure, ca->pem())).outcome, Outcome::tls);
  const auto untrusted = judged(f, postfix_at(SecurityLevel::secure, other_ca->pem()));
  EXPECT_EQ(untrusted.outcome, Outcome::deferred);
  EXPECT_EQ(untrusted.reason, Reason::cert_self_signed);  // the server sends its root along: verify error 19
  // Without the certificates' DER the CA change cannot be judged at secure.
  auto no_der = f;
  for (auto& c : no_der.probe.hosts[0].compat.chain) c.der.clear();
  const Rejudged r = rejudge_probe(no_der, postfix_at(SecurityLevel::secure, other_ca->pem()), std::time(nullptr));
  EXPECT_FALSE(r.verdict);
  EXPECT_NE(r.unknown.find("the certificates were not stored"), std::string::npos) << r.unknown;
}

TEST_F(RejudgeTest, AFailedHandshakeStaysFailedUnderStricterSettingsAndIsUnknownUnderLooserOnes) {
  auto f = facts("TLSv1.2", "x");
  auto& hs = f.probe.hosts[0].compat;
  hs.ok = false;
  hs.chain.clear();
  hs.error = "sslv3 alert handshake failure";
  hs.ssl_reason = SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE;
  hs.alert_received = 40;
  const auto strict = judged(f, postfix_at(SecurityLevel::encrypt, ca->pem()));
  EXPECT_EQ(strict.outcome, Outcome::deferred);
  EXPECT_EQ(strict.reason, Reason::no_shared_cipher);
  // Probed at secure (level 1), judged at may (level 0): the server might take what level 0 offers.
  f.settings.level = SecurityLevel::secure;
  f.settings.openssl_security_level = 1;
  EXPECT_FALSE(rejudge_probe(f, postfix_at(SecurityLevel::may, ca->pem()), std::time(nullptr)).verdict);
}

TEST_F(RejudgeTest, MandatoryLevelsDeferWhatMayDeliversInPlaintext) {
  auto f = facts("TLSv1.3", "TLS_AES_256_GCM_SHA384");
  f.probe.hosts[0].starttls_offered = false;
  f.probe.hosts[0].compat = {};
  EXPECT_EQ(judged(f, postfix_at(SecurityLevel::may, ca->pem())).outcome, Outcome::plaintext);
  const auto encrypt = judged(f, postfix_at(SecurityLevel::encrypt, ca->pem()));
  EXPECT_EQ(encrypt.outcome, Outcome::deferred);
  EXPECT_EQ(encrypt.reason, Reason::starttls_not_offered);
}

TEST_F(RejudgeTest, DaneIsNeverGuessed) {
  auto p = postfix_at(SecurityLevel::dane, ca->pem());
  EXPECT_FALSE(rejudge_probe(facts("TLSv1.3", "TLS_AES_256_GCM_SHA384"), p, std::time(nullptr)).verdict);
}

}  // namespace
}  // namespace mxtls
