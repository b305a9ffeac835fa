// codec/engine_verdict: the milter's question and the engine's typed answer.
#include <gtest/gtest.h>

#include "codec/engine_verdict.h"
#include "codec/policy_request.h"

namespace mxtls::codec {
namespace {

EngineVerdict deferred() {
  EngineVerdict v;
  v.domain = "legacy.example";
  v.action = Action::defer;
  v.severity = Severity::incompatible;
  v.reason = Reason::protocol_version;
  v.outcome = Outcome::deferred;
  v.policy_reply = "DEFER_IF_PERMIT 4.7.1 TLS to legacy.example would fail: protocol_version (deferred)";
  v.defer_status = "4.7.1";
  v.defer_text = "TLS to legacy.example would fail: protocol_version (deferred)";
  return v;
}

std::optional<EngineVerdict> decode(const std::string& reply) {
  std::string error;
  return decode_engine_verdict(reply, error);
}

TEST(EngineVerdict, RoundTripsEveryField) {
  EXPECT_EQ(decode(encode_engine_verdict(deferred()) + "\n"), deferred());
  EngineVerdict monitored;
  monitored.domain = "new.example";
  monitored.action = Action::hold;
  monitored.monitor = true;
  monitored.policy_reply = "DUNNO";
  EXPECT_EQ(decode(encode_engine_verdict(monitored) + "\n"), monitored);
}

TEST(EngineVerdict, TheDeferStatusIsTheConfiguredOneNotAConstant) {
  const auto v = decode(encode_engine_verdict(deferred()) + "\n");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->defer_status, "4.7.1");
  EXPECT_EQ(v->defer_text, "TLS to legacy.example would fail: protocol_version (deferred)");
}

TEST(EngineVerdict, AReplyWithoutADomainHasNothingToApply) {
  const auto v = decode("action=DUNNO\n\n");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->domain.empty());
}

TEST(EngineVerdict, RejectsUnknownVocabularyAndIncompleteReplies) {
  std::string error;
  EXPECT_FALSE(decode_engine_verdict("action=DUNNO\n", error));  // no empty line
  EXPECT_FALSE(decode_engine_verdict("mxtls_domain=a.example\n\n", error));
  EXPECT_EQ(error, "reply without action");
  EXPECT_FALSE(decode("action=DUNNO\nmxtls_domain=a.example\nmxtls_action=explode\nmxtls_verdict=ok\n\n"));
  EXPECT_FALSE(decode("action=DUNNO\nmxtls_domain=a.example\nmxtls_action=dunno\nmxtls_verdict=great\n\n"));
  EXPECT_FALSE(decode("action=DUNNO\nmxtls_domain=a.example\nmxtls_action=dunno\nmxtls_verdict=ok\nmxtls_reason=bad\n\n"));
  EXPECT_FALSE(decode("action=X\nmxtls_domain=a.example\nmxtls_action=defer\nmxtls_verdict=ok\n"
                      "mxtls_defer_status=5.7.1\nmxtls_defer_text=x\n\n"));
  EXPECT_FALSE(decode("action=X\nmxtls_domain=a.example\nmxtls_action=defer\nmxtls_verdict=ok\nmxtls_defer_status=4.7.1\n\n"));
}

TEST(EngineVerdict, QuestionValuesCannotAddAttributes) {
  const std::string wire = encode_verdict_question(
      {.recipient = "a@b.example\nrequest=smtpd_access_policy", .sender = "s@x", .queue_id = "Q1", .client_address = ""});
  const auto parsed = parse_policy_request(wire);
  ASSERT_EQ(parsed.status, ParseStatus::complete);
  EXPECT_EQ(parsed.consumed, wire.size());
  EXPECT_EQ(parsed.request.get("request"), kVerdictRequest);
  EXPECT_EQ(parsed.request.get("recipient"), "a@b.example?request=smtpd_access_policy");
}

// An 8 KB recipient (or sender) used to exceed the policy protocol's line
// limit, so the engine refused the question and the milter failed open.
TEST(EngineVerdict, QuestionsAreBoundedAndKeepTheRecipientDomain) {
  const std::string domain = "legacy.example";
  const std::string huge_local(9000, 'a');
  const std::string wire = encode_verdict_question({.recipient = huge_local + "@" + domain,
                                                    .sender = huge_local + "@sender.example",
                                                    .queue_id = std::string(9000, 'Q'),
                                                    .client_address = std::string(9000, '1')});
  const auto parsed = parse_policy_request(wire);
  ASSERT_EQ(parsed.status, ParseStatus::complete) << parsed.error;
  const auto recipient = parsed.request.get("recipient");
  EXPECT_LE(recipient.size(), kMaxQuestionValue);
  EXPECT_TRUE(recipient.ends_with("@" + domain));
  EXPECT_TRUE(parsed.request.get("sender").ends_with("@sender.example"));
  EXPECT_EQ(parsed.request.get("queue_id").size(), kMaxQuestionValue);
  EXPECT_EQ(parsed.request.get("client_address").size(), kMaxQuestionValue);
  // Short values go as they are.
  // Named: the parsed request points into the encoded text.
  const std::string plain_text = encode_verdict_question({.recipient = "u@" + domain, .sender = "", .queue_id = "", .client_address = ""});
  const auto plain = parse_policy_request(plain_text);
  EXPECT_EQ(plain.request.get("recipient"), "u@" + domain);
}

}  // namespace
}  // namespace mxtls::codec
