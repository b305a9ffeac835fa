// report/what_if: the --what-if settings (errors name the setting), and the
// report over stored verdicts: who would stop, go out in plaintext, flow
// again; stores without facts or with unreadable facts listed as not
// judged; transport failures judged from their history records' facts; the
// summary line; the MTA log's counts joined by destination.
#include <gtest/gtest.h>

#include "classify/classifier.h"
#include "probe/probe_facts.h"
#include "report/what_if.h"
#include "store/probe_record.h"

namespace mxtls {
namespace {

TEST(WhatIfSettings, ParsesKeyValuePairsAndNamesWhatItRejects) {
  const auto ok = parse_what_if("smtp_tls_security_level=encrypt  smtp_tls_mandatory_protocols=>=TLSv1.2", "");
  ASSERT_TRUE(ok.settings) << ok.error;
  ASSERT_EQ(ok.settings->changes.size(), 2u);
  EXPECT_EQ(ok.settings->changes[1].second, ">=TLSv1.2");
  EXPECT_EQ(ok.settings->describe(), "smtp_tls_security_level=encrypt smtp_tls_mandatory_protocols=>=TLSv1.2");
  EXPECT_TRUE(parse_what_if("", "/etc/ssl/ca.pem").settings);

  const std::vector<std::pair<std::string, std::string>> bad{
      {"smtp_tls_loglevel=1", "unknown or unsupported setting 'smtp_tls_loglevel'"},
      {"smtp_tls_security_level=dane", "smtp_tls_security_level=dane is not supported"},
      {"smtp_tls_security_level=fingerprint", "is not supported"},
      {"smtp_tls_security_level=paranoid", "unknown level 'paranoid'"},
      {"smtp_tls_protocols=>=TLSv9", "smtp_tls_protocols: "},
      {"smtp_tls_CAfile=$smtp_tls_CApath", "not a $parameter reference"},
      {"smtp_tls_ciphers=high smtp_tls_ciphers=medium", "smtp_tls_ciphers given twice"},
      {"encrypt", "'encrypt' is not key=value"},
      {"=encrypt", "'=encrypt' is not key=value"},
      {"", "no setting given"},
      {std::string(5000, 'x'), "longer than 4096 bytes"},
  };
  for (const auto& [text, error] : bad) {
    const auto parsed = parse_what_if(text, "");
    EXPECT_FALSE(parsed.settings) << text;
    EXPECT_NE(parsed.error.find(error), std::string::npos) << text << ": " << parsed.error;
  }
}

TEST(WhatIfSettings, PostfixChangesNeedThePostfixProfileAndTheCaFileMustRead) {
  ClientProfile custom;
  custom.name = "custom";
  const auto change = parse_what_if("smtp_tls_security_level=encrypt", "");
  ASSERT_TRUE(change.settings);
  try {
    proposed_profile(TlsConfig{}, custom, *change.settings);
    ADD_FAILURE() << "no error";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("the compat profile is custom"), std::string::npos) << e.what();
  }
  const auto ca = parse_what_if("", "/nonexistent/ca.pem");
  ASSERT_TRUE(ca.settings);
  try {
    proposed_profile(TlsConfig{}, custom, *ca.settings);
    ADD_FAILURE() << "no error";
  } catch (const ProfileError& e) {
    EXPECT_EQ(std::string(e.what()), "--what-if-ca: cannot read /nonexistent/ca.pem");
  }
}

ClientProfile postfix_at(SecurityLevel level) {
  ClientProfile p;
  p.name = "postfix";
  p.level = level;
  p.versions = kAllVersions;
  p.cipher_list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
  p.openssl_security_level = level_authenticates(level) ? 1 : 0;
  p.match = {"nexthop", "dot-nexthop"};
  return p;
}

// A stored verdict whose facts say: one MX host, STARTTLS as given.
StoredVerdict stored(const std::string& domain, bool starttls, const std::string& version = "TLSv1.3") {
  DestinationProbe probe;
  probe.domain = domain;
  MxProbe mx;
  mx.host = "mx." + domain;
  mx.address = "192.0.2.9";
  mx.starttls_offered = starttls;
  mx.starttls_code = starttls ? 220 : 0;
  if (starttls) {
    mx.compat.attempted = mx.compat.ok = true;
    mx.compat.version = version;
    mx.compat.cipher = version == "TLSv1.3" ? "TLS_AES_128_GCM_SHA256" : "ECDHE-RSA-AES128-SHA";
  }
  probe.hosts = {mx};
  StoredVerdict v;
  v.domain = domain;
  v.probed_at = 1700000000;
  v.facts = encode_probe_facts(probe, postfix_at(SecurityLevel::may));
  return v;
}

TEST(WhatIfReport, ListsWhoWouldStopOrGoPlainAndWhatCannotBeJudged) {
  std::vector<StoredVerdict> verdicts{stored("good.test", true), stored("plain.test", false), stored("old.test", true, "TLSv1")};
  StoredVerdict no_facts;
  no_facts.domain = "nofacts.test";
  StoredVerdict corrupt = stored("corrupt.test", true);
  corrupt.facts = corrupt.facts.substr(0, 40);
  verdicts.push_back(no_facts);
  verdicts.push_back(corrupt);
  // The newest probe of unreached.test reached nothing: history only. A
  // refused connection is the same at every level; a timeout might not be.
  StoredVerdict refused;
  refused.domain = "refused.test";
  refused.reason = Reason::connect_failed;
  refused.severity = Severity::unreachable;
  refused.outcome = Outcome::deferred;
  refused.probed_at = 1700000100;
  StoredVerdict unreached;
  unreached.domain = "unreached.test";
  unreached.reason = Reason::timeout;
  unreached.severity = Severity::unreachable;
  unreached.outcome = Outcome::deferred;
  unreached.probed_at = 1700000100;
  DestinationOutcomes logged;
  logged.domain = "plain.test";
  logged.sent_plaintext = 12;
  logged.deferred = 1;

  auto proposal = parse_what_if("smtp_tls_security_level=encrypt smtp_tls_mandatory_protocols=>=TLSv1.2", "");
  ASSERT_TRUE(proposal.settings);
  ClientProfile encrypt = postfix_at(SecurityLevel::encrypt);
  encrypt.versions = *parse_protocols(">=TLSv1.2").versions;
  const WhatIfReport r = run_what_if(verdicts, {refused, unreached}, postfix_at(SecurityLevel::may), encrypt, *proposal.settings, {logged});
  EXPECT_EQ(r.judged, 4u);
  EXPECT_EQ(r.changed, 2u);
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.not_judged, 3u);
  ASSERT_EQ(r.rows.size(), 7u);
  const auto row = [&r](const std::string& d) { return *std::find_if(r.rows.begin(), r.rows.end(), [&](const WhatIfRow& w) { return w.domain == d; }); };
  EXPECT_EQ(row("plain.test").effect, WhatIfEffect::stops);
  EXPECT_EQ(row("plain.test").proposed->reason, Reason::starttls_not_offered);
  ASSERT_TRUE(row("plain.test").log);
  EXPECT_EQ(row("plain.test").log->sent_plaintext, 12u);
  EXPECT_EQ(row("old.test").effect, WhatIfEffect::stops);
  EXPECT_EQ(row("old.test").proposed->reason, Reason::protocol_version);
  EXPECT_EQ(row("good.test").effect, WhatIfEffect::unchanged);
  EXPECT_EQ(row("nofacts.test").why, "no facts stored: probe again");
  EXPECT_EQ(row("corrupt.test").why.rfind("cannot read stored facts: ", 0), 0u) << row("corrupt.test").why;
  EXPECT_EQ(row("unreached.test").effect, WhatIfEffect::not_judged);
  EXPECT_EQ(row("refused.test").effect, WhatIfEffect::unchanged);
  EXPECT_EQ(row("refused.test").proposed->outcome, Outcome::deferred);

  const std::string text = render_what_if_text(r);
  EXPECT_NE(text.find("4 destinations re-judged, 2 would change (2 stop, 0 plaintext, 0 flow again, 0 otherwise), 0 unknown, 3 not judged"),
            std::string::npos) << text;
  EXPECT_NE(text.find("plain.test: plaintext (starttls_not_offered) -> deferred (starttls_not_offered)"), std::string::npos) << text;
  EXPECT_NE(text.find("log: 0 sent over TLS, 12 in plaintext, 1 deferred, 0 bounced"), std::string::npos) << text;
  const std::string json = render_what_if_json(r);
  EXPECT_NE(json.find("\"effect\":\"stops\""), std::string::npos);
  EXPECT_NE(json.find("\"changed\":2"), std::string::npos);
}

// A transport failure's history record keeps its facts (store/probe_record.h):
// a handshake that stalled after STARTTLS is judged per level (at may our
// MTA retries in plaintext, at encrypt it defers); one that stalled before
// the greeting is deferred at either.
TEST(WhatIfReport, JudgesTransportFailuresFromTheirHistoryFacts) {
  const auto timed_out = [](const std::string& domain, bool in_handshake) {
    DestinationProbe probe;
    probe.domain = domain;
    MxProbe mx;
    mx.host = "mx." + domain;
    mx.address = "192.0.2.9";
    if (in_handshake) {
      mx.starttls_offered = true;
      mx.starttls_code = 220;
      mx.compat.attempted = mx.compat.timed_out = true;
      mx.compat.error = "handshake timed out";
    } else {
      mx.failure = Reason::timeout;
      mx.failure_detail = "no greeting within 300s";
    }
    probe.hosts = {mx};
    const ClientProfile may = postfix_at(SecurityLevel::may);
    StoredVerdict v = stored_verdict(probe, classify_destination(probe, may), may, 1700000100);
    EXPECT_EQ(v.severity, Severity::unreachable);
    return history_record(v);
  };
  const StoredVerdict stall = timed_out("stall.test", true), tarpit = timed_out("tarpit.test", false);
  ASSERT_FALSE(stall.facts.empty());
  auto proposal = parse_what_if("smtp_tls_security_level=encrypt", "");
  ASSERT_TRUE(proposal.settings);
  const WhatIfReport r = run_what_if({}, {stall, tarpit}, postfix_at(SecurityLevel::may), postfix_at(SecurityLevel::encrypt),
                                     *proposal.settings, {});
  EXPECT_EQ(r.not_judged, 0u);
  ASSERT_EQ(r.rows.size(), 2u);
  const auto row = [&r](const std::string& d) { return *std::find_if(r.rows.begin(), r.rows.end(), [&](const WhatIfRow& w) { return w.domain == d; }); };
  EXPECT_EQ(row("stall.test").effect, WhatIfEffect::stops);
  EXPECT_EQ(row("stall.test").now->outcome, Outcome::plaintext_after_delay);
  EXPECT_EQ(row("stall.test").proposed->outcome, Outcome::deferred);
  EXPECT_EQ(row("stall.test").proposed->reason, Reason::timeout);
  EXPECT_EQ(row("tarpit.test").effect, WhatIfEffect::unchanged);
  EXPECT_EQ(row("tarpit.test").proposed->outcome, Outcome::deferred);

  // A verdict's history record keeps no facts; nor one over the cap.
  StoredVerdict verdict = stored("good.test", true);
  verdict.severity = Severity::ok;
  EXPECT_TRUE(history_record(verdict).facts.empty());
  StoredVerdict big = stall;
  big.facts.assign(kMaxHistoryFactsBytes + 1, 'x');
  EXPECT_TRUE(history_record(big).facts.empty());
}

}  // namespace
}  // namespace mxtls
