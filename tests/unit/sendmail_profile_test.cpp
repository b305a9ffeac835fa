// tls/sendmail_settings, tls/sendmail_access, tls/sendmail_profile and
// profile = auto: what is read from sendmail.cf and the access map, how the
// TLS_Srv/Try_TLS entries are looked up, how the classifier judges a host
// under them, and which profile auto picks on a host with Postfix, with
// Sendmail, or with neither (configuration directories made per test).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "classify/classifier.h"
#include "tls/sendmail_access.h"
#include "tls/sendmail_profile.h"
#include "tls/sendmail_settings.h"

namespace mxtls {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mxtls-sendmail-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(SendmailCf, ReadsTheClientTlsOptionsAndTheAccessMap) {
  const auto s = parse_sendmail_cf(
      "# comment\nO CipherList=HIGH:!aNULL@SECLEVEL=1\nO ClientSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1\n"
      "O TLSFallbacktoClear=True\nO CACertFile=/etc/mail/ca.pem\n#O CACertPath=/ignored\n"
      "Kaccess hash -T<TMPF> -o /etc/mail/access\n",
      "test.cf");
  EXPECT_EQ(s.cipher_list, "HIGH:!aNULL@SECLEVEL=1");
  EXPECT_EQ(s.versions.to_string(), "TLSv1.2,TLSv1.3");
  EXPECT_TRUE(s.fallback_to_clear);
  EXPECT_EQ(s.ca_file, "/etc/mail/ca.pem");
  EXPECT_EQ(s.ca_path, "");
  EXPECT_EQ(s.access_map, "/etc/mail/access");
}

TEST(SendmailCf, DefaultsAreSendmails) {
  const auto s = parse_sendmail_cf("#O CipherList=\n#O TLSFallbacktoClear=False\n", "test.cf");
  EXPECT_EQ(s.cipher_list, "");
  EXPECT_EQ(s.versions, kAllVersions);  // SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_TICKET removes no TLS version
  EXPECT_FALSE(s.fallback_to_clear);
  EXPECT_EQ(s.access_map, "");
  EXPECT_FALSE(parse_sendmail_cf("O TLSFallbacktoClear=false\n", "t").fallback_to_clear);
}

TEST(SendmailCf, SslOptionsByNumberAndMinus) {
  const auto s = parse_sendmail_cf("O ClientSSLOptions=" + std::to_string(SSL_OP_NO_TLSv1_3) + ", -SSL_OP_NO_TLSv1\n", "t");
  EXPECT_EQ(s.versions.to_string(), "TLSv1,TLSv1.1,TLSv1.2");
  EXPECT_THROW(parse_sendmail_cf("O ClientSSLOptions=12x\n", "t"), ProfileError);
  EXPECT_THROW(parse_sendmail_cf("O CipherList=" + std::string(70000, 'A') + "\n", "t"), ProfileError);
}

SendmailAccess access_map() {
  return parse_sendmail_access(
      "# comment\nTLS_Srv:\tVERIFY\nTLS_Srv:example.org ENCR:128\nTLS_Srv:MX.Strict.Example.org PERM+VERIFY:256\n"
      "TLS_Srv:192.0.2 OK\nTry_TLS:broken.example.net NO\nConnect:192.0.2.1 REJECT\n",
      "access");
}

TEST(SendmailAccessMap, KeepsOnlyTheTlsEntriesCaseFolded) {
  const auto a = access_map();
  EXPECT_EQ(a.tls_srv.size(), 4u);
  EXPECT_EQ(a.tls_srv.at("mx.strict.example.org"), "PERM+VERIFY:256");
  EXPECT_EQ(a.try_tls.at("broken.example.net"), "NO");
  EXPECT_THROW(parse_sendmail_access(std::string(5000, 'x'), "access"), ProfileError);
}

TEST(SendmailAccessMap, LooksUpNameThenParentsThenAddressThenDefault) {
  const auto a = access_map();
  auto r = server_requirement(a, "mx.strict.example.org.", "203.0.113.1");
  EXPECT_TRUE(r.verify);
  EXPECT_EQ(r.min_bits, 256);
  EXPECT_TRUE(r.permanent);
  r = server_requirement(a, "mx1.example.org", "192.0.2.7");  // parent domain before the address
  EXPECT_FALSE(r.verify);
  EXPECT_EQ(r.min_bits, 128);
  EXPECT_EQ(r.rule, "TLS_Srv:example.org ENCR:128");
  r = server_requirement(a, "mx.other.test", "192.0.2.7");  // address prefix 192.0.2
  EXPECT_FALSE(r.requires_tls());
  EXPECT_EQ(r.rule, "TLS_Srv:192.0.2 OK");
  r = server_requirement(a, "mx.other.test", "198.51.100.1");  // the bare tag
  EXPECT_TRUE(r.verify);
  EXPECT_FALSE(r.permanent);
  std::string rule;
  EXPECT_FALSE(tries_starttls(a, "mx.broken.example.net", "198.51.100.1", rule));
  EXPECT_EQ(rule, "Try_TLS:broken.example.net NO");
  EXPECT_TRUE(tries_starttls(a, "mx.other.test", "198.51.100.1", rule));
  EXPECT_TRUE(tries_starttls(SendmailAccess{}, "mx.other.test", "198.51.100.1", rule));
}

TEST(SendmailAccessMap, RequirementSyntax) {
  EXPECT_TRUE(parse_requirement("VERIFY+CN:mx.example").verify);
  EXPECT_FALSE(parse_requirement("TEMP+ENCR:112").permanent);
  EXPECT_EQ(parse_requirement("TEMP+ENCR:112").min_bits, 112);
  EXPECT_FALSE(parse_requirement("PERM+OK").requires_tls());
  EXPECT_FALSE(parse_requirement("PERM+OK").permanent);
  EXPECT_FALSE(parse_requirement("ENCR:lots").requires_tls());
}

// Probe evidence for one MX host, built by hand (the classifier is pure).
MxProbe host(const std::string& name = "mx.example.org") {
  MxProbe mx;
  mx.host = name;
  mx.address = "203.0.113.5";
  mx.starttls_offered = true;
  mx.starttls_code = 220;
  mx.compat.attempted = true;
  return mx;
}

MxProbe completed(std::vector<int> verify_codes = {}) {
  auto mx = host();
  mx.compat.ok = true;
  mx.compat.version = "TLSv1.3";
  mx.compat.cipher = "TLS_AES_128_GCM_SHA256";
  mx.compat.cipher_bits = 128;
  mx.compat.chain = {CertificateInfo{}};  // a certificate was sent (no chain: an anonymous session)
  for (int code : verify_codes) mx.compat.verify_issues.push_back({0, code, "x"});
  return mx;
}

ClientProfile sendmail(const std::string& access = "", bool fallback = false) {
  TempDir dir;
  TlsConfig c;
  c.profile = "sendmail";
  const auto map = dir.write("access", access);
  c.sendmail_cf = dir.write("sendmail.cf", std::string(fallback ? "O TLSFallbacktoClear=True\n" : "") +
                                               "Kaccess hash -o " + map.string() + "\n").string();
  return build_client_profile(c);
}

TEST(SendmailProfile, FailedHandshakeDefersOrFallsBackToClear) {
  auto failed = host();
  failed.compat.error = "handshake failure";
  EXPECT_EQ(classify_host(failed, sendmail()).outcome, Outcome::deferred);
  EXPECT_EQ(classify_host(failed, sendmail("", true)).outcome, Outcome::plaintext);
  // A VERIFY requirement refuses the clear-text fallback.
  EXPECT_EQ(classify_host(failed, sendmail("TLS_Srv: VERIFY\n", true)).outcome, Outcome::deferred);
  EXPECT_EQ(classify_host(failed, sendmail("TLS_Srv: PERM+VERIFY\n", true)).outcome, Outcome::bounced);
}

TEST(SendmailProfile, CertificatesMatterOnlyUnderVerify) {
  const auto expired = completed({X509_V_ERR_CERT_HAS_EXPIRED});
  auto v = classify_host(expired, sendmail());
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.reason, Reason::cert_expired);
  EXPECT_EQ(classify_host(expired, sendmail("TLS_Srv:example.org VERIFY\n")).outcome, Outcome::deferred);
  // VERIFY checks the chain, not the name: a certificate for another name passes.
  v = classify_host(completed(), sendmail("TLS_Srv:example.org VERIFY\n"));
  EXPECT_EQ(v.outcome, Outcome::tls);
  EXPECT_EQ(v.reason, Reason::ok);
  EXPECT_EQ(classify_host(expired, sendmail("TLS_Srv:mx.example.org PERM+VERIFY\n")).outcome, Outcome::bounced);
}

TEST(SendmailProfile, CipherBitsAndTryTls) {
  EXPECT_EQ(classify_host(completed(), sendmail("TLS_Srv: ENCR:128\n")).outcome, Outcome::tls);
  const auto weak = classify_host(completed(), sendmail("TLS_Srv: ENCR:256\n"));
  EXPECT_EQ(weak.outcome, Outcome::deferred);
  EXPECT_NE(weak.detail.find("128 bits"), std::string::npos) << weak.detail;
  auto v = classify_host(completed(), sendmail("Try_TLS:example.org NO\n"));
  EXPECT_EQ(v.outcome, Outcome::plaintext);
  EXPECT_NE(v.detail.find("Try_TLS:example.org NO"), std::string::npos);
  EXPECT_EQ(classify_host(completed(), sendmail("Try_TLS:example.org NO\nTLS_Srv: VERIFY\n")).outcome, Outcome::deferred);
  auto plain = host();
  plain.starttls_offered = false;
  EXPECT_EQ(classify_host(plain, sendmail()).outcome, Outcome::plaintext);
  EXPECT_EQ(classify_host(plain, sendmail("TLS_Srv: ENCR:128\n")).outcome, Outcome::deferred);
}

TEST(SendmailProfile, FiveHundredGreetingBounces) {
  auto rejected = host();
  rejected.failure = Reason::banner_rejected;
  rejected.banner = "554 5.7.1 go away";
  EXPECT_EQ(classify_host(rejected, sendmail()).outcome, Outcome::bounced);
  EXPECT_EQ(classify_host(rejected, openssl_profile(std::nullopt, "")).outcome, Outcome::deferred);
  rejected.banner = "421 4.3.2 busy";
  EXPECT_EQ(classify_host(rejected, sendmail()).outcome, Outcome::deferred);
}

TEST(SendmailProfile, ReadsTheConfiguredFiles) {
  TempDir dir;
  TlsConfig c;
  c.profile = "sendmail";
  c.sendmail_cf = dir.write("sendmail.cf", "O CipherList=DEFAULT:@SECLEVEL=1\nO CACertFile=/ca.pem\n").string();
  auto p = build_client_profile(c);
  EXPECT_EQ(p.openssl_security_level, 1);
  EXPECT_EQ(p.ca_file, "/ca.pem");
  EXPECT_FALSE(p.send_sni);
  EXPECT_EQ(p.level, SecurityLevel::may);
  EXPECT_EQ(p.on_handshake_failure, HandshakeFailure::deferred);
  EXPECT_NE(p.source.find("no access map"), std::string::npos) << p.source;
  c.sendmail_access = (dir.path() / "missing").string();  // named explicitly: must exist
  EXPECT_THROW(build_client_profile(c), ProfileError);
  c.sendmail_access.clear();
  c.security_level = "dane";
  EXPECT_THROW(build_client_profile(c), ProfileError);
  c.sendmail_cf = (dir.path() / "nothere.cf").string();
  c.security_level.clear();
  EXPECT_THROW(build_client_profile(c), ProfileError);
}

TEST(AutoProfile, SendmailWhenThereIsNoPostfix) {
  TempDir dir;
  TlsConfig c;  // profile = auto is the default
  ASSERT_EQ(c.profile, "auto");
  c.postconf = (dir.path() / "no-postconf").string();
  c.sendmail_cf = dir.write("sendmail.cf", "O TLSFallbacktoClear=True\n").string();
  const auto p = build_client_profile(c);
  EXPECT_EQ(p.name, "sendmail");
  EXPECT_EQ(p.on_handshake_failure, HandshakeFailure::plaintext);
  EXPECT_NE(p.source.find("auto: no Postfix (cannot run " + c.postconf), std::string::npos) << p.source;
  EXPECT_NE(p.source.find(c.sendmail_cf), std::string::npos) << p.source;
}

TEST(AutoProfile, OpensslDefaultsWhenThereIsNeither) {
  TempDir dir;
  TlsConfig c;
  c.postconf = (dir.path() / "no-postconf").string();
  c.sendmail_cf = (dir.path() / "no-sendmail.cf").string();
  const auto p = build_client_profile(c);
  EXPECT_EQ(p.name, "openssl");
  EXPECT_EQ(p.openssl_security_level, openssl_default_security_level());
  EXPECT_EQ(p.cipher_list, "DEFAULT");
  EXPECT_EQ(p.versions, kAllVersions);
  EXPECT_TRUE(p.send_sni);
  EXPECT_EQ(p.on_handshake_failure, HandshakeFailure::deferred);
  EXPECT_NE(p.source.find("no Sendmail (no " + c.sendmail_cf + ")"), std::string::npos) << p.source;
  auto failed = host();
  failed.compat.error = "handshake failure";
  EXPECT_EQ(classify_host(failed, p).outcome, Outcome::deferred);
}

TEST(AutoProfile, PostfixWhenPostconfReadsItsConfiguration) {
  if (access("/usr/sbin/postconf", X_OK) != 0) GTEST_SKIP() << "Postfix is not installed";
  TempDir dir;
  dir.write("main.cf", "smtp_tls_security_level = encrypt\n");
  TlsConfig c;
  c.postfix_config_dir = dir.path().string();
  c.sendmail_cf = dir.write("sendmail.cf", "").string();  // Postfix wins over a sendmail.cf
  auto p = build_client_profile(c);
  EXPECT_EQ(p.name, "postfix");
  EXPECT_EQ(p.level, SecurityLevel::encrypt);
  EXPECT_EQ(p.source, "auto: " + (dir.path() / "main.cf").string());
  // postconf works but a setting is wrong: an error, not another MTA.
  dir.write("main.cf", "smtp_tls_security_level = bogus\n");
  EXPECT_THROW(build_client_profile(c), ProfileError);
  // A postconf that fails (here: one that exits 1) moves on.
  c.postconf = dir.write("postconf", "#!/bin/sh\nexit 1\n").string();
  fs::permissions(c.postconf, fs::perms::owner_all);
  p = build_client_profile(c);
  EXPECT_EQ(p.name, "sendmail");
  EXPECT_NE(p.source.find("failed"), std::string::npos) << p.source;
}

}  // namespace
}  // namespace mxtls
