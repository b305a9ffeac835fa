// engine/decision: verdict -> policy action, with per-outcome defaults,
// per-reason and per-domain overrides, monitor mode and config validation.
#include <gtest/gtest.h>

#include "engine/decision.h"

namespace mxtls {
namespace {

CachedVerdict verdict(Reason r, Severity s, Outcome o) { return CachedVerdict{r, s, o, 0, 0, std::nullopt, "mx[192.0.2.1]:25"}; }

PolicySettings settings(PolicyConfig c = {}) { return build_policy_settings(c); }

TEST(Decision, UnknownAndHealthyAreDunno) {
  EXPECT_EQ(decide(nullptr, "x.example", settings()).reply, "DUNNO");
  const auto ok = verdict(Reason::ok, Severity::ok, Outcome::tls);
  EXPECT_EQ(decide(&ok, "x.example", settings()).action, Action::dunno);
}

TEST(Decision, DefaultsFollowTheOutcome) {
  const auto deferred = verdict(Reason::protocol_version, Severity::incompatible, Outcome::deferred);
  const auto d = decide(&deferred, "legacy.example", settings());
  EXPECT_EQ(d.action, Action::defer);
  EXPECT_EQ(d.reply, "DEFER_IF_PERMIT 4.7.5 TLS to legacy.example would fail: protocol_version (deferred)");
  const auto delayed = verdict(Reason::no_shared_cipher, Severity::incompatible, Outcome::plaintext_after_delay);
  EXPECT_EQ(decide(&delayed, "d.example", settings()).reply, "WARN mxtls: TLS to d.example=incompatible(no_shared_cipher)");
  const auto plain = verdict(Reason::starttls_not_offered, Severity::warning, Outcome::plaintext);
  EXPECT_EQ(decide(&plain, "p.example", settings()).action, Action::dunno);
}

TEST(Decision, OverridesByReasonThenDomain) {
  PolicyConfig c;
  c.reason_actions = "protocol_version:reroute cert_expired:prepend";
  c.domain_actions = "Partner.Example:hold";
  c.reroute = "relay:[127.0.0.1]:2525";
  const auto s = settings(c);
  const auto v = verdict(Reason::protocol_version, Severity::incompatible, Outcome::deferred);
  EXPECT_EQ(decide(&v, "legacy.example", s).reply, "FILTER relay:[127.0.0.1]:2525");
  EXPECT_EQ(decide(&v, "partner.example", s).reply, "HOLD mxtls: TLS to partner.example=incompatible(protocol_version)");
  const auto e = verdict(Reason::cert_expired, Severity::warning, Outcome::tls);
  EXPECT_EQ(decide(&e, "e.example", s).reply, "PREPEND X-MXTLS: e.example=warning(cert_expired)");
}

TEST(Decision, MonitorModeDecidesButAnswersDunno) {
  PolicyConfig c;
  c.monitor = true;
  const auto v = verdict(Reason::protocol_version, Severity::incompatible, Outcome::deferred);
  const auto d = decide(&v, "legacy.example", settings(c));
  EXPECT_EQ(d.action, Action::defer);
  EXPECT_EQ(d.reply, "DUNNO");
}

TEST(Decision, ConfigErrorsNameTheKey) {
  const auto error_of = [](PolicyConfig c) -> std::string {
    try {
      build_policy_settings(c);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  PolicyConfig c;
  c.on_deferred = "explode";
  EXPECT_NE(error_of(c).find("policy.on_deferred: unknown action 'explode'"), std::string::npos);
  c = {};
  c.reason_actions = "nonsense:defer";
  EXPECT_NE(error_of(c).find("unknown reason code 'nonsense'"), std::string::npos);
  c = {};
  c.on_deferred = "reroute";
  EXPECT_NE(error_of(c).find("policy.reroute"), std::string::npos);
  c = {};
  c.domain_actions = "justaword";
  EXPECT_NE(error_of(c).find("expected name:action"), std::string::npos);
  c = {};
  c.defer_status = "5.7.1";
  EXPECT_NE(error_of(c).find("policy.defer_status"), std::string::npos);
}

}  // namespace
}  // namespace mxtls
