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
  EXPECT_EQ(sanitize_quoted("CN=\"x\""), "CN='x'");
}

TEST(Json, WritesValidNestedDocuments) {
  JsonWriter j;
  j.begin_object().key("a").value(1).key("b").begin_array().value("x\"y").value(true).null().end_array()
      .key("c").begin_object().end_object().end_object();
  EXPECT_EQ(j.str(), R"({"a":1,"b":["x\"y",true,null],"c":{}})");
  EXPECT_EQ(json_escape("\x01\n\xff"), "\\u0001\\n\\u00ff");
}

}  // namespace
}  // namespace mxtls
