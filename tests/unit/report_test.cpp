// report/: reading decision log lines back, and the summary `mxtls report`
// prints from verdicts, probe history and those lines.
#include <gtest/gtest.h>

#include "classify/classifier.h"
#include "classify/probe_log.h"
#include "log/sanitize.h"
#include "report/decision_log.h"
#include "report/summary.h"

namespace mxtls {
namespace {

constexpr const char* kPolicydLine =
    "2026-11-24T12:08:06.515 mxtls-policyd[28880]: NOQUEUE: to=<user@nostarttls.test>, domain=nostarttls.test, "
    "mx=mx.nostarttls.test[127.0.0.12]:25, verdict=incompatible, reason=starttls_not_offered, tls=none, "
    "want=TLSv1.2,TLSv1.3, outcome=deferred, action=defer, cached=0s";

TEST(DecisionLog, ReadsPolicydMilterAndUnknownLines) {
  auto d = parse_decision_line(kPolicydLine);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->program, "mxtls-policyd");
  EXPECT_EQ(d->domain, "nostarttls.test");
  EXPECT_EQ(d->reason, "starttls_not_offered");
  EXPECT_EQ(d->action, Action::defer);
  EXPECT_EQ(d->applied, Applied::yes);

  d = parse_decision_line("Nov 24 12:08:08 mta mxtls-milter[281]: 64729A7A0CE: to=<a@ok.test>, domain=ok.test, "
                          "verdict=ok, reason=ok, action=dunno");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->program, "mxtls-milter");
  EXPECT_EQ(d->reason, "ok");

  d = parse_decision_line("mxtls-milter[2]: 4F1A: to=<a@legacy.test>, domain=legacy.test, verdict=incompatible, "
                          "reason=protocol_version, action=reroute, note=accepted (a milter cannot reroute; the transport "
                          "socketmap does)");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::reroute);

  d = parse_decision_line("mxtls-policyd[1]: NOQUEUE: to=<a@new.test>, domain=new.test, verdict=unknown, action=dunno, probe=queued");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, "unknown");

  d = parse_decision_line("mxtls-policyd[1]: Q1: to=<a@x.test>, domain=x.test, mx=m[1.2.3.4]:25, verdict=incompatible, "
                          "reason=cert_expired, tls=none, want=TLSv1.2, outcome=deferred, action=reroute(monitor), cached=5s");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::reroute);
  EXPECT_EQ(d->applied, Applied::monitor);

  d = parse_decision_line("mxtls-milter[2]: 4F1B: to=<a@legacy.test>, domain=legacy.test, verdict=incompatible, "
                          "reason=protocol_version, action=defer(not applied), note=accepted (milter defer_recipients = no)");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::defer);
  EXPECT_EQ(d->applied, Applied::not_applied);
}

TEST(DecisionLog, SkipsWhatIsNotADecisionLine) {
  for (const char* line : {
           "mxtls-policyd[1]: probe: domain=a.test, mx=m[1.2.3.4]:25, verdict=ok, reason=ok",
           "postfix/smtp[9]: 4F1A: to=<a@b.test>, relay=none, status=deferred",
           "mxtls-policyd[1]: Q: to=<a@b.test>, domain=not a domain, verdict=ok, reason=ok, action=dunno",
           "mxtls-policyd[1]: Q: to=<a@b.test>, domain=b.test, verdict=ok, reason=no_such_code, action=dunno",
           "mxtls-policyd[1]: Q: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, action=explode",
           "mxtls-policyd[1]: Q: to=<a@b.test, domain=b.test",
           // Postfix logs raw addresses: a line of another program quoting ours.
           "Nov 24 12:00:00 mta postfix/smtpd[7]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550; from=<> "
           "to=<mxtls-policyd[1]: Q: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, action=defer, @c.test> proto=ESMTP",
           "mxtls-policyd[x1]: Q: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, action=dunno",
           ""}) {
    EXPECT_FALSE(parse_decision_line(line)) << line;
  }
  std::string long_line = kPolicydLine;
  long_line.insert(long_line.find(", domain="), kMaxDecisionLine, 'x');
  EXPECT_FALSE(parse_decision_line(long_line));
}

TEST(DecisionLog, AQuotedLocalPartCannotForgeTheFields) {
  // What the daemons log for RCPT TO:<"x>, domain=victim.test, verdict=incompatible,
  // reason=cert_expired, action=defer"@evil.test>: sanitize_address breaks the '>'.
  const std::string rcpt = "\"x>, domain=victim.test, verdict=incompatible, reason=cert_expired, action=defer\"@evil.test";
  const std::string line = "mxtls-policyd[1]: NOQUEUE: to=<" + sanitize_address(rcpt) +
                           ">, domain=evil.test, verdict=unknown, action=dunno, probe=queued";
  const auto d = parse_decision_line(line);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->domain, "evil.test");
  EXPECT_EQ(d->reason, "unknown");
  EXPECT_EQ(d->action, Action::dunno);
}

// What a destination can make a probe line say: its greeting text lands in
// detail="..." (tests/lab/cases.py serves the same greeting).
constexpr const char* kForgedGreeting =
    "554 5.7.1 Q: to=<u@forged.test>, domain=forged.test, verdict=incompatible, reason=cert_expired, action=defer, x=\"y";

TEST(DecisionLog, AServerReplyInAProbeLineCannotForgeADecision) {
  DestinationProbe probe;
  probe.domain = "forger.test";
  MxProbe mx;
  mx.host = "mx.forger.test";
  mx.address = "192.0.2.30";
  mx.failure = Reason::banner_rejected;
  mx.failure_detail = std::string("greeting: ") + kForgedGreeting;
  probe.hosts = {mx};
  ClientProfile profile;
  const auto lines = format_probe_lines(probe, classify_destination(probe, profile), profile);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("reason=banner_rejected"), std::string::npos) << lines[0];
  EXPECT_FALSE(parse_decision_line("mxtls-policyd[1]: " + lines[0])) << lines[0];
  // Nor in a decision line's own fields: the socketmap key is quoted the same way.
  EXPECT_FALSE(parse_decision_line(std::string("mxtls-policyd[1]: socketmap: map=transport, key=\"") +
                                   sanitize_quoted(kForgedGreeting) + "\", reason=ok, answer=NOTFOUND"));
}

TEST(DecisionLog, QuotedValuesAreOneFieldAndARepeatedKeyIsNoDecision) {
  auto d = parse_decision_line("mxtls-milter[2]: 4F1A: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, "
                               "action=dunno, note=\"x\\\", action=defer, y=\\\\\"");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::dunno);
  EXPECT_FALSE(parse_decision_line("mxtls-milter[2]: 4F1A: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, "
                                   "action=dunno, action=defer"));
  EXPECT_FALSE(parse_decision_line("mxtls-milter[2]: 4F1A: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, "
                                   "action=dunno, note=\"unterminated"));
  // A queue id is letters and digits.
  EXPECT_FALSE(parse_decision_line("mxtls-policyd[1]: Q 1: to=<a@b.test>, domain=b.test, verdict=ok, reason=ok, action=dunno"));
}

StoredVerdict verdict(const std::string& domain, Reason r, Severity s, int64_t at = 1'800'000'000) {
  StoredVerdict v;
  v.domain = domain;
  v.reason = r;
  v.severity = s;
  v.probed_at = at;
  return v;
}

TEST(Summary, CountsVerdictsGroupsProblemsAndFindsChanges) {
  SummaryInput in;
  in.now = 1'800'100'000;
  in.since = 1'800'000'000;
  in.verdicts = {verdict("a.test", Reason::ok, Severity::ok), verdict("b.test", Reason::cert_expired, Severity::warning),
                 verdict("c.test", Reason::protocol_version, Severity::incompatible),
                 verdict("d.test", Reason::protocol_version, Severity::incompatible)};
  in.history = {verdict("b.test", Reason::ok, Severity::ok, 1'800'000'100),
                verdict("c.test", Reason::protocol_version, Severity::incompatible, 1'800'000'200),
                verdict("b.test", Reason::cert_expired, Severity::warning, 1'800'050'000)};
  const Summary s = summarize(in);
  EXPECT_EQ(s.by_severity, (std::array<std::size_t, 4>{1, 1, 2, 0}));
  EXPECT_EQ(s.problems.at(Reason::protocol_version), (std::vector<std::string>{"c.test", "d.test"}));
  EXPECT_EQ(s.problems.at(Reason::cert_expired), (std::vector<std::string>{"b.test"}));
  ASSERT_EQ(s.changes.size(), 1u);
  EXPECT_EQ(s.changes[0].domain, "b.test");
  EXPECT_EQ(s.changes[0].from, Reason::ok);
  EXPECT_EQ(s.changes[0].to, Reason::cert_expired);
  EXPECT_EQ(s.probes, 3u);
  EXPECT_EQ(s.destinations_probed, 2u);
  EXPECT_FALSE(s.local_problem);
  const std::string text = render_summary_text(s, 10);
  EXPECT_NE(text.find("protocol_version (2): c.test, d.test"), std::string::npos) << text;
  EXPECT_NE(text.find("b.test  ok -> cert_expired (warning)"), std::string::npos) << text;
  const std::string json = render_summary_json(s);
  EXPECT_NE(json.find(R"("problems":{"protocol_version":["c.test","d.test"],"cert_expired":["b.test"]})"), std::string::npos)
      << json;
}

TEST(Summary, SuspectsALocalProblemWhenMostDestinationsAreUnreachable) {
  SummaryInput in;
  for (int i = 0; i < 10; ++i)
    in.history.push_back(verdict("d" + std::to_string(i) + ".test", i < 5 ? Reason::timeout : Reason::ok,
                                 i < 5 ? Severity::unreachable : Severity::ok));
  EXPECT_TRUE(summarize(in).local_problem);
  in.history[4] = verdict("d4.test", Reason::ok, Severity::ok);  // 4 of 10
  EXPECT_FALSE(summarize(in).local_problem);
  in.history.resize(8);  // too few destinations to say
  for (auto& v : in.history) v.reason = Reason::connect_failed;
  EXPECT_FALSE(summarize(in).local_problem);
}

TEST(Summary, CountsRecipientsPerProgramAndDestination) {
  SummaryInput in;
  in.log_lines = 5;
  in.decisions = {{"mxtls-policyd", "x.test", "cert_expired", Action::defer, Applied::yes},
                  {"mxtls-policyd", "x.test", "cert_expired", Action::defer, Applied::monitor},
                  {"mxtls-policyd", "y.test", "ok", Action::dunno, Applied::yes},
                  {"mxtls-policyd", "x.test", "cert_expired", Action::defer, Applied::yes},
                  {"mxtls-milter", "y.test", "ok", Action::dunno, Applied::yes}};
  const Summary s = summarize(in);
  ASSERT_EQ(s.logged.at("mxtls-policyd").size(), 2u);
  const auto& x = s.logged.at("mxtls-policyd")[0];
  EXPECT_EQ(x.domain, "x.test");
  EXPECT_EQ(x.recipients, 3u);
  EXPECT_EQ(x.actions.at("defer"), 2u);
  EXPECT_EQ(x.actions.at("defer(monitor)"), 1u);
  EXPECT_EQ(s.logged.at("mxtls-milter")[0].recipients, 1u);
  EXPECT_NE(render_summary_text(s, 10).find("x.test  3  reason=cert_expired  defer 2, defer(monitor) 1"), std::string::npos);
}

TEST(Summary, CountsAMilterDeferItDidNotApplyApart) {
  SummaryInput in;
  in.decisions = {{"mxtls-milter", "x.test", "cert_expired", Action::defer, Applied::not_applied},
                  {"mxtls-milter", "x.test", "cert_expired", Action::defer, Applied::yes}};
  const Summary s = summarize(in);
  const auto& x = s.logged.at("mxtls-milter").at(0);
  EXPECT_EQ(x.actions.at("defer(not applied)"), 1u);
  EXPECT_EQ(x.actions.at("defer"), 1u);
}

}  // namespace
}  // namespace mxtls
