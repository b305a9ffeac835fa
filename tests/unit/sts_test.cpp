// sts/: the MTA-STS TXT record and policy parsers (RFC 8461 3.1, 3.2), MX
// pattern matching (4.1), the policy cache, and the judgement of a probed
// destination under a policy. All pure: evidence is built by hand.
#include <gtest/gtest.h>

#include <openssl/x509_vfy.h>

#include "classify/classifier.h"
#include "dns/rdata.h"
#include "sts/judge.h"
#include "sts/policy.h"
#include "sts/record.h"
#include "sts/resolver.h"

namespace mxtls::sts {
namespace {

// -- TXT record --------------------------------------------------------------

TEST(StsRecord, ParsesValidRecords) {
  for (const char* text : {"v=STSv1; id=20160831085700Z;", "v=STSv1;id=abc", "v=STSv1; id=abc ;",
                           "v=STSv1\t;\tid=A1", "v=STSv1; id=abc; ext-1=value.x", "v=STSv1; foo=bar; id=xyz"}) {
    const auto r = parse_record(text);
    ASSERT_TRUE(r.record) << text << ": " << r.error;
  }
  EXPECT_EQ(parse_record("v=STSv1; id=20160831085700Z;").record->id, "20160831085700Z");
}

TEST(StsRecord, RejectsInvalidRecords) {
  for (const char* text : {
           "v=STSv1",                       // no field
           "v=STSv1;",                      // no field
           "v=STSv1; id=",                  // empty id
           "v=STSv1; id=abc-def",           // id: letters and digits only
           "v=STSv1; id=123456789012345678901234567890123",  // 33 characters
           "v=STSv1; id=a; id=b",           // two ids
           "v=STSv1; foo=bar",              // no id
           "v=STSv1 id=abc",                // no ';'
           "v=STSv1; id=abc trailing",      // junk without ';'
           "v=STSv1; id=abc; =x",           // empty field name
           "v=STSv1; id=abc; _x=1",         // name must start with a letter or digit
           "v=STSv1; id=abc; x=a=b",        // '=' inside a value
           "v=STSv1; id=abc; x",            // not name=value
           "v=STSv2; id=abc",               // not version 1
           "V=STSv1; id=abc",               // case-sensitive
       }) {
    EXPECT_FALSE(parse_record(text).record) << text;
  }
}

TEST(StsRecord, BoundsTheRecord) {
  const std::string big = "v=STSv1; id=abc; x=" + std::string(64 * 1024, 'a');
  const auto r = parse_record(big);
  EXPECT_FALSE(r.record);
  EXPECT_NE(r.error.find("over the limit"), std::string::npos) << r.error;
}

TEST(StsRecord, SelectsExactlyOneStsRecord) {
  EXPECT_EQ(select_record({}).status, Discovery::none);
  EXPECT_EQ(select_record({"v=spf1 -all", "google-site-verification=x"}).status, Discovery::none);
  EXPECT_EQ(select_record({"v=STSv10; id=1"}).status, Discovery::none);  // not an STS record
  const auto one = select_record({"v=spf1 -all", "v=STSv1; id=42;"});
  EXPECT_EQ(one.status, Discovery::found);
  EXPECT_EQ(one.record.id, "42");
  EXPECT_EQ(select_record({"v=STSv1; id=1", "v=STSv1; id=2"}).status, Discovery::invalid);
  EXPECT_EQ(select_record({"v=STSv1; id=bad-id"}).status, Discovery::invalid);
}

TEST(StsRecord, TxtRdataJoinsStrings) {
  EXPECT_EQ(*dns::parse_txt(std::string("\x07v=STSv1\x07; id=42", 16)), "v=STSv1; id=42");
  EXPECT_EQ(*dns::parse_txt(""), "");
  EXPECT_FALSE(dns::parse_txt(std::string("\x05" "abc", 4)));  // length overruns
}

// -- policy file ---------------------------------------------------------------

constexpr const char* kPolicy =
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

TEST(StsPolicy, ParsesTheRfcExample) {
  const auto p = parse_policy(kPolicy);
  ASSERT_TRUE(p.policy) << p.error;
  EXPECT_EQ(p.policy->mode, Mode::enforce);
  EXPECT_EQ(p.policy->max_age, 604800);
  EXPECT_EQ(p.policy->mx, (std::vector<std::string>{"mail.example.com", "*.example.net", "backupmx.example.com"}));
  EXPECT_EQ(p.policy->lines.size(), 6u);
  EXPECT_EQ(p.policy->lines[2], "mx: mail.example.com");
}

TEST(StsPolicy, AcceptsLfBlankLinesExtensionsAndRepeats) {
  const auto p = parse_policy(
      "version: STSv1\nmode: testing\n\nmx:mx.Example.org\nmax_age: 86400  \nmode: enforce\nfoo.bar-1: any thing \xc3\xa9\n");
  ASSERT_TRUE(p.policy) << p.error;
  EXPECT_EQ(p.policy->mode, Mode::testing);  // the first mode counts
  EXPECT_EQ(p.policy->mx, std::vector<std::string>{"mx.example.org"});
  EXPECT_TRUE(parse_policy("version: STSv1\nmode: none\nmax_age: 0").policy);  // mx optional for none, no final LF
}

TEST(StsPolicy, RejectsInvalidPolicies) {
  const std::string base = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
  for (const std::string& text : {
           std::string("mode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),  // no version
           std::string("version: STSv1\nmx: mx.example.com\nmax_age: 86400\n"),  // no mode
           std::string("version: STSv1\nmode: enforce\nmx: mx.example.com\n"),   // no max_age
           std::string("version: STSv1\nmode: enforce\nmax_age: 86400\n"),       // enforce without mx
           std::string("version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           std::string("version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           base + "max_age: x\n" + "",  // repeated max_age is ignored: still valid (checked below)
           std::string("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n"),
           std::string("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 12345678901\n"),
           std::string("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n"),
           std::string("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 86400\n"),
           std::string("version: STSv1\nmode: enforce\nmx: mx_1.example.com\nmax_age: 86400\n"),
           std::string("version: STSv1\nmode: enforce\nmx: -mx.example.com\nmax_age: 86400\n"),
           std::string("version : STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           std::string(" version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           std::string("Version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           base + "garbage line\n",
           base + "x:\n",
           base + "x: bad\x01value\n",
           base + "x: \xff\xfe\n",
           std::string("version: STSv1\rmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
           std::string("\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"),
       }) {
    if (text == base + "max_age: x\n") {
      EXPECT_TRUE(parse_policy(text).policy);
      continue;
    }
    const auto p = parse_policy(text);
    EXPECT_FALSE(p.policy) << text;
    EXPECT_FALSE(p.error.empty());
  }
}

TEST(StsPolicy, BoundsTheSize) {
  std::string text = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
  text += "x: " + std::string(kMaxPolicySize, 'a') + "\n";
  const auto p = parse_policy(text);
  EXPECT_FALSE(p.policy);
  EXPECT_NE(p.error.find("over the limit"), std::string::npos);
}

TEST(StsPolicy, MxPatternsMatchOneLabel) {
  EXPECT_TRUE(mx_pattern_matches("mail.example.com", "mail.example.com"));
  EXPECT_TRUE(mx_pattern_matches("mail.example.com", "MAIL.Example.com."));
  EXPECT_FALSE(mx_pattern_matches("mail.example.com", "mx.example.com"));
  EXPECT_TRUE(mx_pattern_matches("*.example.net", "mx1.example.net"));
  EXPECT_FALSE(mx_pattern_matches("*.example.net", "example.net"));
  EXPECT_FALSE(mx_pattern_matches("*.example.net", "a.b.example.net"));
  EXPECT_FALSE(mx_pattern_matches("*.example.net", "mx1.xexample.net"));
  EXPECT_FALSE(mx_pattern_matches("*.example.net", ".example.net"));
  EXPECT_EQ(postfix_match_pattern("*.example.net"), ".example.net");
  EXPECT_EQ(postfix_match_pattern("mx.example.net"), "mx.example.net");
}

// -- cache -------------------------------------------------------------------------

TEST(StsCache, PolicyInForceUntilItExpires) {
  PolicyCache cache;
  Policy p = *parse_policy(kPolicy).policy;
  cache.put("example.com", CachedPolicy{"1", p, 1000, 1000 + p.max_age, 1000}, 1000);
  EXPECT_TRUE(cache.in_force("example.com", 1001));
  EXPECT_FALSE(cache.in_force("example.com", 1000 + p.max_age));
  cache.put("none.example", CachedPolicy{"", std::nullopt, 0, 0, 1000}, 1000);
  EXPECT_TRUE(cache.find("none.example"));
  EXPECT_FALSE(cache.in_force("none.example", 1000));
}

// -- judging -------------------------------------------------------------------------

ClientProfile sts_test_profile(SecurityLevel level) {
  ClientProfile p;
  p.name = "test";
  p.level = level;
  p.versions = *parse_protocols(">=TLSv1.2").versions;
  p.match = {"hostname"};
  return p;
}

CertificateInfo leaf(std::vector<std::string> names) {
  CertificateInfo c;
  c.subject = "CN=" + names.front();
  c.key_type = "RSA";
  c.key_bits = 2048;
  c.dns_names = std::move(names);
  c.sha256 = "AA";
  return c;
}

// An MX host reached over TLS, with the STS connection's handshake:
// `matches` is whether the certificate matched the policy's patterns.
MxProbe mx_host(const std::string& host, bool matches, std::vector<int> verify = {}, std::vector<std::string> names = {}) {
  MxProbe mx;
  mx.host = host;
  mx.address = "192.0.2.1";
  mx.starttls_offered = true;
  mx.starttls_code = 220;
  mx.compat.attempted = mx.compat.ok = true;
  mx.compat.version = "TLSv1.3";
  mx.compat.host_matches = true;
  mx.compat.chain = {leaf(names.empty() ? std::vector<std::string>{host} : names)};
  mx.sts = mx.compat;
  mx.sts.sni_sent = true;
  mx.sts.host_matches = matches;
  for (int code : verify) mx.sts.verify_issues.push_back({0, code, "x"});
  return mx;
}

DestinationProbe destination(std::vector<MxProbe> hosts, const char* policy_text) {
  DestinationProbe d;
  d.domain = "example.com";
  d.hosts = std::move(hosts);
  d.sts.checked = true;
  d.sts.record = "v=STSv1; id=1";
  d.sts.id = "1";
  if (policy_text) d.sts.policy = parse_policy(policy_text).policy;
  return d;
}

DestinationVerdict judge(const DestinationProbe& d, bool enforced = true) {
  const auto base = sts_test_profile(SecurityLevel::may);
  auto v = classify_destination(d, base);
  apply_sts(d, v, Judging{sts_test_profile(SecurityLevel::secure), enforced});
  return v;
}

constexpr const char* kEnforce = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmx: *.example.net\nmax_age: 86400\n";
constexpr const char* kTesting = "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n";

TEST(StsJudge, EnforceMatchingIsOk) {
  const auto v = judge(destination({mx_host("mx.example.com", true)}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::ok);
  EXPECT_EQ(v.overall.severity, Severity::ok);
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
}

TEST(StsJudge, EnforceMxMismatchDefers) {
  const auto v = judge(destination({mx_host("mx.elsewhere.org", false)}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::sts_mx_mismatch);
  EXPECT_EQ(v.overall.severity, Severity::incompatible);
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
  EXPECT_NE(v.overall.detail.find("matches none"), std::string::npos) << v.overall.detail;
}

TEST(StsJudge, MxOutsideThePolicyButCertificateMatchingIsAWarning) {
  // Postfix matches the certificate, not the MX name, against the patterns.
  const auto v = judge(destination({mx_host("mx.elsewhere.org", true, {}, {"mx.elsewhere.org", "mx.example.com"})}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::sts_mx_mismatch);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
}

TEST(StsJudge, EnforceWebPkiFailureDefers) {
  const auto v = judge(destination({mx_host("mx.example.com", true, {X509_V_ERR_CERT_HAS_EXPIRED})}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::sts_webpki_invalid);
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
  EXPECT_NE(v.overall.detail.find("cert_expired"), std::string::npos) << v.overall.detail;
  // The same under "enforce = no": a warning, mail goes as under may.
  const auto w = judge(destination({mx_host("mx.example.com", true, {X509_V_ERR_CERT_HAS_EXPIRED})}, kEnforce), false);
  EXPECT_EQ(w.overall.severity, Severity::warning);
  EXPECT_EQ(w.overall.outcome, Outcome::tls);
}

TEST(StsJudge, CertificateNotMatchingPatternsDefers) {
  const auto v = judge(destination({mx_host("mx.example.com", false, {}, {"other.example.org"})}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::sts_webpki_invalid);
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
}

TEST(StsJudge, NoStarttlsUnderEnforceDefers) {
  auto mx = mx_host("mx.example.com", true);
  mx.starttls_offered = false;
  mx.starttls_code = 0;
  mx.compat = {};
  mx.sts = {};
  const auto v = judge(destination({mx}, kEnforce));
  EXPECT_EQ(v.overall.reason, Reason::starttls_not_offered);
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
}

TEST(StsJudge, OneGoodMxDeliversTheOtherWarns) {
  const auto v = judge(destination({mx_host("mx.elsewhere.org", false), mx_host("a.example.net", true)}, kEnforce));
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.decisive, 1u);
}

TEST(StsJudge, TestingOnlyWarns) {
  const auto v = judge(destination({mx_host("mx.elsewhere.org", false)}, kTesting));
  EXPECT_EQ(v.overall.reason, Reason::sts_mx_mismatch);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
}

TEST(StsJudge, NoneAndNoPolicyChangeNothing) {
  const auto none = judge(destination({mx_host("mx.elsewhere.org", false)}, "version: STSv1\nmode: none\nmax_age: 0\n"));
  EXPECT_EQ(none.overall.reason, Reason::ok);
  const auto absent = judge(destination({mx_host("mx.elsewhere.org", false)}, nullptr));
  EXPECT_EQ(absent.overall.reason, Reason::ok);
}

TEST(StsJudge, FetchFailureWithoutCacheIsAFinding) {
  auto d = destination({mx_host("mx.example.com", true)}, nullptr);
  d.sts.problem = Reason::sts_policy_fetch_failed;
  d.sts.problem_detail = "connect to 192.0.2.9: Connection refused";
  const auto v = judge(d);
  EXPECT_EQ(v.overall.reason, Reason::sts_policy_fetch_failed);
  EXPECT_EQ(v.overall.severity, Severity::warning);
  EXPECT_EQ(v.overall.outcome, Outcome::tls);
  EXPECT_NE(v.overall.detail.find("as without MTA-STS"), std::string::npos);
}

TEST(StsJudge, FetchFailureWithCachedPolicyEnforcesIt) {
  auto d = destination({mx_host("mx.elsewhere.org", false)}, kEnforce);
  d.sts.cached = true;
  d.sts.problem = Reason::sts_policy_fetch_failed;
  const auto v = judge(d);
  EXPECT_EQ(v.overall.reason, Reason::sts_mx_mismatch);
  EXPECT_EQ(v.overall.outcome, Outcome::deferred);
  EXPECT_NE(std::find(v.overall.findings.begin(), v.overall.findings.end(), Reason::sts_policy_fetch_failed),
            v.overall.findings.end());
}

TEST(StsJudge, CertificateNamesHost) {
  EXPECT_TRUE(certificate_names_host(leaf({"mx.example.com"}), "MX.example.com"));
  EXPECT_TRUE(certificate_names_host(leaf({"*.example.com"}), "mx.example.com"));
  EXPECT_FALSE(certificate_names_host(leaf({"*.example.com"}), "a.mx.example.com"));
  EXPECT_FALSE(certificate_names_host(leaf({"other.example.com"}), "mx.example.com"));
}

}  // namespace
}  // namespace mxtls::sts
