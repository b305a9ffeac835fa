// tls/protocols: Postfix's smtp_tls_protocols syntax.
#include <gtest/gtest.h>

#include "tls/protocols.h"

namespace mxtls {
namespace {

std::string versions(const char* spec) {
  const auto r = parse_protocols(spec);
  return r.versions ? r.versions->to_string() : "error: " + r.error;
}

TEST(Protocols, PostfixForms) {
  EXPECT_EQ(versions(">=TLSv1"), "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3");
  EXPECT_EQ(versions(">=TLSv1.2"), "TLSv1.2,TLSv1.3");
  EXPECT_EQ(versions(">=TLSv1 <=TLSv1.2"), "TLSv1,TLSv1.1,TLSv1.2");
  EXPECT_EQ(versions("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"), "TLSv1.2,TLSv1.3");
  EXPECT_EQ(versions("TLSv1.2 TLSv1.3"), "TLSv1.2,TLSv1.3");
  EXPECT_EQ(versions("!TLSv1.1"), "TLSv1,TLSv1.2,TLSv1.3");
  EXPECT_EQ(versions(""), "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3");
}

TEST(Protocols, Errors) {
  EXPECT_EQ(versions(">=TLSv9"), "error: unknown TLS protocol '>=TLSv9'");
  EXPECT_NE(versions("<=TLSv1 >=TLSv1.2").find("no TLS version"), std::string::npos);
}

}  // namespace
}  // namespace mxtls
