// codec/: the policy delegation request parser, netstrings and socketmap
// queries/replies, with their limits.
#include <gtest/gtest.h>

#include <ctime>

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

// Feeds `input` a byte at a time, as a dripping client sends it.
PolicyParse parse_dripped(std::string_view input) {
  PolicyParseProgress progress;
  for (std::size_t n = 1; n <= input.size(); ++n) {
    auto r = parse_policy_request(input.substr(0, n), progress);
    if (r.status != ParseStatus::need_more) return r;
  }
  return {};
}

// Near the 64 KiB limit, in as many lines as allowed.
std::string big_request() {
  std::string r = "request=smtpd_access_policy\nprotocol_state=RCPT\n";
  for (int i = 0; i < 190; ++i) r += "x_pad" + std::to_string(1000 + i) + "=" + std::string(330, 'v') + "\n";
  return r + "recipient=bob@example.org\n\n";
}

TEST(PolicyRequest, DrippedParsesAsAtOnce) {
  std::string many, big;
  for (int i = 0; i < 300; ++i) many += "a" + std::to_string(i) + "=1\n";
  while (big.size() < 70000) big += "attr=" + std::string(1000, 'v') + "\n";
  for (const std::string& input : {std::string("request=smtpd_access_policy\nrecipient=a@b.example\n\nnext=1\n"),
                                  std::string("a=1\r\nb=2\r\n\r\n"), big_request(), std::string("no equals sign\n\n"),
                                  std::string("\n"), std::string("a=b\x01" "c\n\n"), "a=" + std::string(9000, 'x'), many,
                                  big}) {
    const auto at_once = parse_policy_request(input);
    const auto dripped = parse_dripped(input);
    EXPECT_EQ(dripped.status, at_once.status) << input.substr(0, 40);
    EXPECT_EQ(dripped.consumed, at_once.consumed);
    EXPECT_EQ(dripped.error, at_once.error);
    EXPECT_EQ(dripped.request.attributes, at_once.request.attributes);
  }
}

TEST(PolicyRequest, ProgressResumesAcrossAGrowingBuffer) {
  PolicyParseProgress progress;
  std::string buffer = "request=smtpd_access_policy\nrecip";
  EXPECT_EQ(parse_policy_request(buffer, progress).status, ParseStatus::need_more);
  EXPECT_EQ(progress.line_start, 28u);  // the complete line is not read again
  EXPECT_EQ(progress.scanned, 5u);
  buffer += "ient=bob@example.org\n\nrequest=";
  buffer.shrink_to_fit();  // the bytes move: progress holds offsets, not pointers
  const auto r = parse_policy_request(buffer, progress);
  ASSERT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.request.get("request"), "smtpd_access_policy");
  EXPECT_EQ(r.request.get("recipient"), "bob@example.org");
  EXPECT_EQ(progress.line_start, 0u);  // ready for the next request
  EXPECT_TRUE(progress.attributes.empty());
}

TEST(PolicyRequest, ADrippedRequestIsExaminedOnce) {
  // Re-parsing the buffer from its start on every byte costs this request
  // some 2 billion byte checks (over a second of CPU); examined once, about
  // 64 thousand calls that each look at one new byte.
  const std::string input = big_request();
  ASSERT_GT(input.size(), 63000u);
  const std::clock_t start = std::clock();
  const auto r = parse_dripped(input);
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(r.request.get("recipient"), "bob@example.org");
  EXPECT_LT(seconds, 0.2);
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
