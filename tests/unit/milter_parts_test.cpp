// milter/: the verdict header, the client-network matching and the verdict memo.
#include <gtest/gtest.h>

#include "client_networks.h"
#include "config/config.h"
#include "filter.h"
#include "verdict_header.h"
#include "verdict_memo.h"

namespace mxtls {
namespace {

TEST(VerdictHeader, OneEntryPerDomainInFirstSeenOrder) {
  std::vector<DomainVerdict> list;
  add_domain_verdict(list, {"legacy.example", "incompatible", "protocol_version"});
  add_domain_verdict(list, {"good.example", "ok", "ok"});
  add_domain_verdict(list, {"legacy.example", "ok", "ok"});
  add_domain_verdict(list, {"new.example", "unknown", ""});
  EXPECT_EQ(format_verdict_header(list, 7),
            "legacy.example=incompatible(protocol_version); good.example=ok;\n\tnew.example=unknown");
}

std::vector<std::string> header_lines(const std::string& name, const std::string& value) {
  std::vector<std::string> lines;
  std::string rest = name + ": " + value;
  for (auto fold = rest.find('\n'); fold != std::string::npos; fold = rest.find('\n')) {
    lines.push_back(rest.substr(0, fold));
    rest = rest.substr(fold + 1);
  }
  lines.push_back(rest);
  return lines;
}

// With many recipient domains the header was one line of any length: past
// RFC 5322's 998 characters at about 30 domains, dropped by Postfix at 120 KB.
TEST(VerdictHeader, FoldsAtEntriesAndSummarisesWhatDoesNotFit) {
  std::vector<DomainVerdict> list;
  for (int i = 0; i < 500; ++i)
    add_domain_verdict(list, {"d" + std::to_string(i) + ".example", i % 7 ? "ok" : "incompatible", i % 7 ? "ok" : "protocol_version"});
  const std::string value = format_verdict_header(list, 7);
  EXPECT_LE(value.size(), kMaxHeaderValue);
  const auto lines = header_lines("X-MXTLS", value);
  ASSERT_GT(lines.size(), 1u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), kHeaderFoldColumn) << lines[i];
    if (i > 0) {
      EXPECT_EQ(lines[i][0], '\t') << "a continuation line starts with white space";
    }
  }
  EXPECT_TRUE(lines[0].starts_with("X-MXTLS: d0.example=incompatible(protocol_version); d1.example=ok;"));
  // Every entry listed, then how many are not.
  std::size_t listed = 0;
  for (std::size_t at = value.find(".example="); at != std::string::npos; at = value.find(".example=", at + 1)) ++listed;
  ASSERT_LT(listed, list.size());
  EXPECT_TRUE(value.ends_with("; and " + std::to_string(list.size() - listed) + " more")) << value.substr(value.size() - 40);
}

TEST(VerdictHeader, ALongEntryTakesALineOfItsOwnAndAllFitsWhenItCan) {
  const std::string long_domain = std::string(60, 'a') + "." + std::string(60, 'b') + ".example";
  std::vector<DomainVerdict> list{{"a.example", "ok", "ok"}, {long_domain, "ok", "ok"}, {"c.example", "ok", "ok"}};
  EXPECT_EQ(format_verdict_header(list, 7), "a.example=ok;\n\t" + long_domain + "=ok;\n\tc.example=ok");
}

TEST(ClientNetworks, MatchesV4AndV6Prefixes) {
  const ClientNetworks n("127.0.0.0/8 192.0.2.7 2001:db8::/32");
  EXPECT_TRUE(n.contains("127.1.2.3"));
  EXPECT_TRUE(n.contains("192.0.2.7"));
  EXPECT_FALSE(n.contains("192.0.2.8"));
  EXPECT_TRUE(n.contains("2001:db8:1::5"));
  EXPECT_FALSE(n.contains("2001:db9::1"));
  EXPECT_FALSE(n.contains("not an address"));
  EXPECT_FALSE(ClientNetworks("").contains("127.0.0.1"));
}

TEST(ClientNetworks, BadItemsAreConfigErrors) {
  EXPECT_THROW(ClientNetworks("10.0.0.0/33"), ConfigError);
  EXPECT_THROW(ClientNetworks("banana"), ConfigError);
  EXPECT_THROW(ClientNetworks("10.0.0.0/x"), ConfigError);
}

codec::EngineVerdict judged(Severity severity) {
  codec::EngineVerdict v;
  v.domain = "a.example";
  v.severity = severity;
  return v;
}

TEST(VerdictMemo, RemembersAnAnswerForItsTtlOnly) {
  VerdictMemo memo(std::chrono::seconds(10), 100);
  const auto t0 = VerdictMemo::Clock::now();
  memo.remember("a.example", judged(Severity::ok), t0);
  ASSERT_TRUE(memo.find("a.example", t0 + std::chrono::seconds(9)));
  EXPECT_EQ(memo.find("a.example", t0 + std::chrono::seconds(9))->severity, Severity::ok);
  EXPECT_FALSE(memo.find("a.example", t0 + std::chrono::seconds(10)));
  EXPECT_FALSE(memo.find("b.example", t0));
}

TEST(VerdictMemo, AnAnswerWithoutAVerdictIsNotRemembered) {
  VerdictMemo memo(std::chrono::seconds(10), 100);
  codec::EngineVerdict unknown;
  unknown.domain = "a.example";
  memo.remember("a.example", unknown);
  EXPECT_FALSE(memo.find("a.example"));
}

TEST(VerdictMemo, ZeroTtlRemembersNothing) {
  VerdictMemo memo(std::chrono::milliseconds(0), 100);
  memo.remember("a.example", judged(Severity::ok));
  EXPECT_FALSE(memo.find("a.example"));
}

TEST(VerdictMemo, StaysWithinItsCapacity) {
  VerdictMemo memo(std::chrono::seconds(10), 3);
  const auto t0 = VerdictMemo::Clock::now();
  for (int i = 0; i < 3; ++i) memo.remember("d" + std::to_string(i) + ".example", judged(Severity::ok), t0);
  // Full and all fresh: the next domain starts the memo over.
  memo.remember("d3.example", judged(Severity::incompatible), t0);
  EXPECT_FALSE(memo.find("d0.example", t0));
  EXPECT_TRUE(memo.find("d3.example", t0));
  // Expired entries make room first.
  memo.remember("d4.example", judged(Severity::ok), t0);
  memo.remember("d5.example", judged(Severity::ok), t0 + std::chrono::seconds(11));
  EXPECT_TRUE(memo.find("d5.example", t0 + std::chrono::seconds(11)));
}

TEST(MilterSettings, VerdictCacheIsBounded) {
  MilterConfig milter;
  PolicyConfig policy;
  milter.verdict_cache.value = std::chrono::hours(2);
  EXPECT_THROW(build_milter_settings(milter, policy), ConfigError);
  milter.verdict_cache.value = std::chrono::seconds(0);
  EXPECT_EQ(build_milter_settings(milter, policy).verdict_cache.count(), 0);
}

TEST(MilterSettings, TempfailOnEngineFailureNeedsRecipientReplies) {
  MilterConfig milter;
  PolicyConfig policy;
  milter.defer_recipients = false;
  EXPECT_FALSE(build_milter_settings(milter, policy).defer_recipients);
  milter.on_engine_failure = "tempfail";
  try {
    build_milter_settings(milter, policy);
    ADD_FAILURE() << "accepted on_engine_failure = tempfail with defer_recipients = no";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("milter.defer_recipients = yes"), std::string::npos) << e.what();
  }
  milter.defer_recipients = true;
  EXPECT_TRUE(build_milter_settings(milter, policy).tempfail_on_engine_failure);
}

}  // namespace
}  // namespace mxtls
