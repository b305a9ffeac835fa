// probe/probe_facts: a probe's evidence written for the store and read back
// (every field re-judging needs), the 16 KiB bound (certificates dropped
// first, then the facts), and stored text that is not what we wrote read as
// a clear error, never trusted.
#include <gtest/gtest.h>
#include <unistd.h>

#include "classify/classifier.h"
#include "probe/probe_facts.h"
#include "test_certificates.h"

namespace mxtls {
namespace {

struct FactsFixture : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mxtls-facts-test-" + std::to_string(getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

ClientProfile may_profile() {
  ClientProfile p;
  p.name = "postfix";
  p.level = SecurityLevel::may;
  p.versions = kAllVersions;
  p.cipher_list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
  p.ca_file = "/etc/lab/ca.pem";
  p.match = {"nexthop", "dot-nexthop"};
  return p;
}

MxProbe completed_host(const CertificateInfo& leaf, const CertificateInfo& ca) {
  MxProbe mx;
  mx.host = "mx.example.test";
  mx.address = "192.0.2.25";
  mx.banner = "220 mx.example.test ESMTP";
  mx.starttls_offered = true;
  mx.starttls_code = 220;
  mx.greeting_s = 0.25;
  auto& hs = mx.compat;
  hs.attempted = hs.ok = true;
  hs.version = "TLSv1.2";
  hs.cipher = "ECDHE-ECDSA-AES256-GCM-SHA384";
  hs.cipher_bits = 256;
  hs.peer_signature_digest = "SHA256";
  hs.chain = {leaf, ca};
  hs.leaf = parse_certificate(leaf.der);
  hs.verify_issues = {{1, 19, "self-signed certificate in certificate chain"}};
  hs.dh_bits = 2048;
  hs.client_cert_requested = true;
  auto& s = mx.survey[static_cast<std::size_t>(TlsVersion::tls1_2)];
  s.attempted = s.ok = true;
  s.version = "TLSv1.2";
  s.chain = {leaf};
  auto& failed = mx.survey[static_cast<std::size_t>(TlsVersion::tls1_0)];
  failed.attempted = true;
  failed.error = "unsupported protocol";
  failed.ssl_reason = 258;
  failed.alert_received = 70;
  mx.certified.attempted = true;
  mx.certified.error = "sslv3 alert handshake failure";
  mx.certified.alert_received = 40;
  return mx;
}

DestinationProbe two_hosts(const CertificateInfo& leaf, const CertificateInfo& ca) {
  DestinationProbe p;
  p.domain = "example.test";
  p.mx_present = true;
  MxProbe refused;
  refused.host = "mx0.example.test";
  refused.address = "192.0.2.24";
  refused.failure = Reason::connect_failed;
  refused.failure_detail = "Connection refused";
  p.hosts = {refused, completed_host(leaf, ca)};
  return p;
}

TEST_F(FactsFixture, RoundTripKeepsWhatJudgingNeeds) {
  testing::TestCa ca("facts CA", dir / "ca.pem");
  const auto leaf = ca.leaf("mx.example.test");
  const DestinationProbe probe = two_hosts(leaf, ca.info());
  const std::string text = encode_probe_facts(probe, may_profile());
  ASSERT_LE(text.size(), kMaxFactsBytes);
  const FactsRead read = read_probe_facts(text);
  ASSERT_TRUE(read.facts) << read.error;
  const ProbeFacts& f = *read.facts;
  EXPECT_TRUE(f.certificates_kept);
  EXPECT_EQ(f.settings.profile, "postfix");
  EXPECT_EQ(f.settings.level, SecurityLevel::may);
  EXPECT_EQ(f.settings.versions, kAllVersions);
  EXPECT_EQ(f.settings.ca_file, "/etc/lab/ca.pem");
  ASSERT_EQ(f.probe.hosts.size(), 2u);
  EXPECT_EQ(f.probe.hosts[0].failure, Reason::connect_failed);
  const MxProbe& mx = f.probe.hosts[1];
  EXPECT_EQ(mx.compat.version, "TLSv1.2");
  EXPECT_EQ(mx.compat.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
  EXPECT_EQ(mx.compat.dh_bits, 2048);
  EXPECT_TRUE(mx.compat.client_cert_requested);
  ASSERT_EQ(mx.compat.chain.size(), 2u);
  EXPECT_EQ(mx.compat.chain[0].der, leaf.der);
  EXPECT_EQ(mx.compat.chain[0].sha256, leaf.sha256);
  EXPECT_EQ(mx.compat.chain[0].not_after, leaf.not_after);
  ASSERT_TRUE(mx.compat.leaf);
  EXPECT_EQ(certificate_der(mx.compat.leaf.get()), leaf.der);
  ASSERT_EQ(mx.compat.verify_issues.size(), 1u);
  EXPECT_EQ(mx.compat.verify_issues[0].code, 19);
  EXPECT_EQ(mx.server_versions(), VersionSet{1u << static_cast<unsigned>(TlsVersion::tls1_2)});
  EXPECT_EQ(mx.survey[0].alert_received, 70);
  EXPECT_TRUE(mx.certified.attempted);
  EXPECT_EQ(mx.certified.alert_received, 40);
  EXPECT_FALSE(f.probe.hosts[0].certified.attempted);  // none made: none stored
  ASSERT_EQ(f.names.size(), 2u);
  EXPECT_TRUE(f.names[1].hostname);
  EXPECT_FALSE(f.names[1].nexthop);
  EXPECT_TRUE(f.names[1].dot_nexthop);  // mx.example.test is below example.test
  // Judged from the facts, the verdict is the one the probe itself gets.
  const ClientProfile profile = may_profile();
  const auto original = classify_destination(probe, profile).overall;
  const auto again = classify_destination(f.probe, profile).overall;
  EXPECT_EQ(again.reason, original.reason);
  EXPECT_EQ(again.outcome, original.outcome);
  EXPECT_EQ(again.detail, original.detail);
}

TEST_F(FactsFixture, OverTheBoundTheCertificatesGoFirstThenTheFacts) {
  testing::TestCa ca("bound CA", dir / "ca.pem");
  DestinationProbe probe;
  probe.domain = "many.example.test";
  // Ten addresses, each with a certificate of its own (RSA: bigger DER than EC).
  for (int i = 0; i < 10; ++i) {
    auto mx = completed_host(ca.leaf("mx" + std::to_string(i) + ".many.example.test", 2048), ca.info());
    probe.hosts.push_back(mx);
  }
  const std::string text = encode_probe_facts(probe, may_profile());
  EXPECT_LE(text.size(), kMaxFactsBytes);
  const FactsRead read = read_probe_facts(text);
  ASSERT_TRUE(read.facts) << read.error;
  EXPECT_FALSE(read.facts->certificates_kept);
  EXPECT_TRUE(read.facts->probe.hosts[3].compat.chain[0].der.empty());
  EXPECT_EQ(read.facts->probe.hosts[3].compat.chain[0].key_bits, 2048);

  // So many addresses with long texts that even without certificates they do not fit.
  DestinationProbe huge;
  huge.domain = "huge.example.test";
  for (std::size_t i = 0; i < kMaxFactsHosts; ++i) {
    auto mx = completed_host(ca.leaf("mx.huge.example.test"), ca.info());
    mx.compat.error = std::string(300, 'e');
    for (int k = 0; k < 20; ++k) mx.compat.verify_issues.push_back({k, 20 + k, std::string(100, 'v')});
    huge.hosts.push_back(mx);
  }
  const std::string dropped = encode_probe_facts(huge, may_profile());
  EXPECT_LE(dropped.size(), kMaxFactsBytes);
  const FactsRead not_kept = read_probe_facts(dropped);
  EXPECT_FALSE(not_kept.facts);
  EXPECT_EQ(not_kept.error.rfind("facts not kept", 0), 0u) << not_kept.error;
}

TEST_F(FactsFixture, StoredTextThatIsNotOursIsAClearErrorNeverACrash) {
  testing::TestCa ca("corrupt CA", dir / "ca.pem");
  const std::string good = encode_probe_facts(two_hosts(ca.leaf("mx.example.test"), ca.info()), may_profile());
  EXPECT_EQ(read_probe_facts("").error, "no facts stored");
  const auto replace = [&good](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::vector<std::string> corrupt{
      good.substr(0, good.size() / 2),                          // cut short
      "[]", "null", "42", "{\"v\":1}", "{\"v\":2}",             // not a document of ours
      replace("\"ok\":true", "\"ok\":\"yes\""),                 // wrong type
      replace("\"port\":25", "\"port\":99999"),                 // out of range
      replace("\"alert\":-1", "\"alert\":1000"),
      replace("\"v\":1", "\"v\":1.5"),
      replace("\"level\":\"may\"", "\"level\":\"paranoid\""),
      replace("\"failure\":\"connect_failed\"", "\"failure\":\"no_such_reason\""),
      replace("\"chain\":[\"", "\"chain\":[\"00"),              // names a certificate not stored
      replace("\"der\":{\"", "\"der\":{\"x\":1,\""),            // stray, harmless: ignored
      std::string(kMaxFactsBytes + 1, ' '),
      std::string(5000, '[') ,
  };
  for (std::size_t i = 0; i < corrupt.size(); ++i) {
    const FactsRead read = read_probe_facts(corrupt[i]);
    if (i == 13) {  // an unknown certificate entry is never looked at
      EXPECT_TRUE(read.facts) << read.error;
      continue;
    }
    EXPECT_FALSE(read.facts) << "case " << i;
    EXPECT_EQ(read.error.rfind("cannot read stored facts: ", 0), 0u) << "case " << i << ": " << read.error;
  }
  // A certificate's DER that is not base64.
  std::string bad_der = good;
  const auto der_at = bad_der.find("\"der\":{\"");
  ASSERT_NE(der_at, std::string::npos);
  const auto value_at = bad_der.find(":\"", der_at + 8) + 2;
  bad_der.replace(value_at, 4, "!!!!");
  const FactsRead read = read_probe_facts(bad_der);
  EXPECT_FALSE(read.facts);
  EXPECT_EQ(read.error.rfind("cannot read stored facts: ", 0), 0u) << read.error;
}

}  // namespace
}  // namespace mxtls
