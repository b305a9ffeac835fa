// log/fields: reading back the key=value fields that log/sanitize.h's
// writers produce, and the round trip between the two.
#include <gtest/gtest.h>

#include "log/fields.h"
#include "log/sanitize.h"

namespace mxtls {
namespace {

TEST(LogFields, SplitsPlainQuotedAndAngleBracketedValues) {
  const auto f = parse_log_fields(R"(to=<"a, b=c"@x.test>, domain=x.test, want=TLSv1.2,TLSv1.3, detail="say \"hi\", x=1 \\", n=)");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 5u);
  EXPECT_EQ((*f)[0].value, R"("a, b=c"@x.test)");
  EXPECT_EQ((*f)[2].value, "TLSv1.2,TLSv1.3");
  EXPECT_EQ((*f)[3].value, R"(say "hi", x=1 \)");
  EXPECT_EQ((*f)[4].value, "");
  EXPECT_EQ(find_log_field(*f, "domain"), "x.test");
  EXPECT_FALSE(find_log_field(*f, "x"));
}

TEST(LogFields, RejectsWhatTheWritersNeverProduce) {
  for (const char* text : {"", "novalue", "=x", "Key=x", "a b=x", "a=1, a=2", R"(d="open)", R"(d="bad \n escape")",
                           R"(d="x"y, e=1)", "t=<open", "a=1,b=2x, =3"})
    EXPECT_FALSE(parse_log_fields(text)) << text;
}

TEST(LogFields, WhatSanitizeQuotedWritesIsReadBackAsOneField) {
  for (const std::string remote : {R"(", action=defer, x=")", R"(\", action=defer, x=\)", "a\\", "\"\"\\\\\"", "plain"}) {
    const auto f = parse_log_fields("detail=\"" + sanitize_quoted(remote) + "\", action=dunno");
    ASSERT_TRUE(f) << remote;
    ASSERT_EQ(f->size(), 2u) << remote;
    EXPECT_EQ((*f)[0].value, remote);
    EXPECT_EQ(find_log_field(*f, "action"), "dunno");
  }
}

}  // namespace
}  // namespace mxtls
