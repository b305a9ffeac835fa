// smtp/reply: multi-line reply parsing, limits, TLS-record detection, EHLO keywords.
#include <gtest/gtest.h>

#include "smtp/reply.h"

namespace mxtls::smtp {
namespace {

TEST(Reply, ParsesSingleAndMultiLine) {
  auto r = parse_reply("220 mx.example ESMTP\r\n");
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.reply.code, 220);
  EXPECT_EQ(r.reply.first_line(), "mx.example ESMTP");

  r = parse_reply("250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n454 next");
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.reply.lines.size(), 3u);
  EXPECT_EQ(r.consumed, 46u);  // up to the final line, not the next reply
}

TEST(Reply, AcceptsBareLfAndCodeOnlyLines) {
  auto r = parse_reply("250\n");
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.reply.code, 250);
}

TEST(Reply, WaitsForMoreUntilTheLastLine) {
  EXPECT_EQ(parse_reply("").status, ParseStatus::need_more);
  EXPECT_EQ(parse_reply("250-a\r\n250-b\r\n").status, ParseStatus::need_more);
  EXPECT_EQ(parse_reply("250 partial").status, ParseStatus::need_more);
}

TEST(Reply, RejectsMalformed) {
  EXPECT_EQ(parse_reply("hello\r\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_reply("250-a\r\n251 b\r\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_reply("250xa\r\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_reply("999 nope\r\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_reply("2\r\n").status, ParseStatus::malformed);
}

TEST(Reply, EnforcesLimits) {
  EXPECT_EQ(parse_reply("250 " + std::string(3000, 'a') + "\r\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_reply("250 " + std::string(3000, 'a')).status, ParseStatus::malformed);  // no newline yet, already too long
  std::string many;
  for (int i = 0; i < 150; ++i) many += "250-x\r\n";
  EXPECT_EQ(parse_reply(many).status, ParseStatus::malformed);
}

TEST(Reply, DetectsTlsRecords) {
  EXPECT_TRUE(looks_like_tls_record(std::string("\x16\x03\x01\x00", 4)));
  EXPECT_TRUE(looks_like_tls_record(std::string("\x15\x03\x03", 3)));
  EXPECT_FALSE(looks_like_tls_record("220 hi"));
  EXPECT_FALSE(looks_like_tls_record(std::string("\x16", 1)));
}

TEST(Ehlo, KeywordsAreUpperCasedFirstWords) {
  auto r = parse_reply("250-mx.example greets you\r\n250-size 1000\r\n250-starttls\r\n250 AUTH=LOGIN PLAIN\r\n");
  const auto k = ehlo_keywords(r.reply);
  EXPECT_TRUE(k.count("STARTTLS"));
  EXPECT_TRUE(k.count("SIZE"));
  EXPECT_TRUE(k.count("AUTH"));
  EXPECT_FALSE(k.count("MX.EXAMPLE"));  // the first line is the greeting, not a keyword
}

}  // namespace
}  // namespace mxtls::smtp
