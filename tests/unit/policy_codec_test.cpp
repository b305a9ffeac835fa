// codec/: the policy delegation request parser, netstrings and socketmap
// queries/replies, with their limits.
#include <gtest/gtest.h>

#include "codec/netstring.h"
#include "codec/policy_request.h"
#include "codec/socketmap.h"

namespace mxtls::codec {
namespace {

TEST(PolicyRequest, ParsesAttributesUntilTheEmptyLine) {
  const std::string input = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=bob@Legacy.Example\n"
                            "queue_id=\nfuture_attribute=x=y\n\nrequest=smtpd";
  const auto r = parse_policy_request(input);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.request.get("recipient"), "bob@Legacy.Example");
  EXPECT_EQ(r.request.get("future_attribute"), "x=y");
  EXPECT_EQ(r.request.get("queue_id"), "");
  EXPECT_EQ(r.request.get("absent"), "");
  EXPECT_EQ(input.substr(r.consumed), "request=smtpd");
}

TEST(PolicyRequest, NeedsMoreWithoutTheEmptyLine) {
  EXPECT_EQ(parse_policy_request("request=smtpd_access_policy\n").status, ParseStatus::need_more);
  EXPECT_EQ(parse_policy_request("request=smtpd_acc").status, ParseStatus::need_more);
}

TEST(PolicyRequest, RejectsMalformedAndOversized) {
  EXPECT_EQ(parse_policy_request("no equals sign\n\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_policy_request("\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_policy_request("=value\n\n").status, ParseStatus::malformed);
  EXPECT_EQ(parse_policy_request(std::string("a=b\x01" "c\n\n")).status, ParseStatus::malformed);
  EXPECT_EQ(parse_policy_request(std::string("a=b\0c\n\n", 7)).status, ParseStatus::malformed);
  EXPECT_EQ(parse_policy_request("a=" + std::string(9000, 'x')).status, ParseStatus::malformed);  // no newline yet
  std::string many;
  for (int i = 0; i < 300; ++i) many += "a" + std::to_string(i) + "=1\n";
  EXPECT_EQ(parse_policy_request(many).status, ParseStatus::malformed);
  std::string big;
  while (big.size() < 70000) big += "attr=" + std::string(1000, 'v') + "\n";
  EXPECT_EQ(parse_policy_request(big).status, ParseStatus::malformed);
}

TEST(PolicyRequest, AcceptsUtf8Values) {
  const auto r = parse_policy_request("recipient=j\xc3\xb6rg@example.org\n\n");
  EXPECT_EQ(r.status, ParseStatus::complete);
}


TEST(Netstring, RoundTrips) {
  const std::string wire = encode_netstring("transport example.com");
  EXPECT_EQ(wire, "21:transport example.com,");
  const std::string input = wire + "3:abc,";  // payload points into the input
  const auto r = parse_netstring(input, 100);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.payload, "transport example.com");
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(parse_netstring("0:,", 10).status, ParseStatus::complete);
}

TEST(Netstring, NeedsMoreAndRejects) {
  EXPECT_EQ(parse_netstring("12", 100).status, ParseStatus::need_more);
  EXPECT_EQ(parse_netstring("5:abc", 100).status, ParseStatus::need_more);
  EXPECT_EQ(parse_netstring("5:abcde;", 100).status, ParseStatus::malformed);
  EXPECT_EQ(parse_netstring("x:", 100).status, ParseStatus::malformed);
  EXPECT_EQ(parse_netstring(":abc,", 100).status, ParseStatus::malformed);
  EXPECT_EQ(parse_netstring("05:abcde,", 100).status, ParseStatus::malformed);
  EXPECT_EQ(parse_netstring("101:", 100).status, ParseStatus::malformed);
  EXPECT_EQ(parse_netstring("99999999999999999999999:", 100).status, ParseStatus::malformed);
}

TEST(Socketmap, QueriesAndReplies) {
  const auto q = parse_socketmap_query("transport legacy.example");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->map, "transport");
  EXPECT_EQ(q->key, "legacy.example");
  EXPECT_FALSE(parse_socketmap_query("transport"));
  EXPECT_FALSE(parse_socketmap_query(" key"));
  EXPECT_FALSE(parse_socketmap_query("map "));
  EXPECT_FALSE(parse_socketmap_query("map k\ney"));
  EXPECT_EQ(format_socketmap_reply(SocketmapStatus::ok, "relay:[r]:25"), "OK relay:[r]:25");
  EXPECT_EQ(format_socketmap_reply(SocketmapStatus::notfound, ""), "NOTFOUND ");
  EXPECT_EQ(format_socketmap_reply(SocketmapStatus::perm, "bad"), "PERM bad");
}

}  // namespace
}  // namespace mxtls::codec
