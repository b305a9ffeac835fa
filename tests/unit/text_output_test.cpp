// log/sanitize and util/json: what untrusted text becomes in logs and JSON.
#include <gtest/gtest.h>

#include "log/sanitize.h"
#include "util/json.h"

namespace mxtls {
namespace {

TEST(Sanitize, ReplacesControlAndNonAsciiAndBounds) {
  EXPECT_EQ(sanitize("220 ok\r\nevil=1"), "220 ok??evil=1");
  EXPECT_EQ(sanitize("caf\xc3\xa9"), "caf??");
  EXPECT_EQ(sanitize(std::string(10, 'a'), 4), "aaaa...");
  EXPECT_EQ(sanitize_quoted(R"(CN="x\")"), R"(CN=\"x\\\")");
}

TEST(Json, WritesOrderedNestedDocuments) {
  const Json j{{"b", 1}, {"a", Json::array({"x\"y", true, nullptr})}, {"c", Json::object()}, {"t", json_seconds(0.41234)}};
  EXPECT_EQ(to_json_text(j), R"({"b":1,"a":["x\"y",true,null],"c":{},"t":0.412})");
}

// The hand-written writer escaped each byte of a UTF-8 sequence on its own
// ("é" became "\u00c3\u00a9") and let invalid bytes pass as Latin-1.
TEST(Json, KeepsUtf8AndReplacesWhatIsNotUtf8) {
  EXPECT_EQ(to_json_text(Json("caf\xc3\xa9 \xe2\x9c\x93")), "\"caf\xc3\xa9 \xe2\x9c\x93\"");
  EXPECT_EQ(to_json_text(Json("a\xff\xc3(b")), "\"a\xef\xbf\xbd\xef\xbf\xbd(b\"");  // U+FFFD for each bad sequence
  EXPECT_EQ(to_json_text(Json("\x01\n\x7f")), "\"\\u0001\\n\x7f\"");
}

TEST(Json, EveryByteStringBecomesJsonThatParsesBack) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (const std::string& s : {all, std::string("\xc3"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    const std::string text = to_json_text(Json{{"banner", s}});
    const auto back = Json::parse(text, nullptr, false);
    ASSERT_FALSE(back.is_discarded()) << text;
    EXPECT_TRUE(back["banner"].is_string());
  }
}

}  // namespace
}  // namespace mxtls
