// probe/target: target syntax and the guard against non-public addresses.
#include <gtest/gtest.h>

#include "probe/target.h"

namespace mxtls {
namespace {

TEST(Target, DomainsAndLiteralHosts) {
  auto t = parse_target("Example.COM.");
  ASSERT_TRUE(t.target);
  EXPECT_EQ(t.target->name, "example.com");
  EXPECT_FALSE(t.target->literal_host);

  t = parse_target("[mx1.example.com]:2525");
  ASSERT_TRUE(t.target);
  EXPECT_TRUE(t.target->literal_host);
  EXPECT_EQ(t.target->name, "mx1.example.com");
  EXPECT_EQ(t.target->port, 2525);

  t = parse_target("[192.0.2.1]");
  ASSERT_TRUE(t.target);
  EXPECT_EQ(t.target->port, 0);
}

TEST(Target, RejectsJunk) {
  EXPECT_FALSE(parse_target("").target);
  EXPECT_FALSE(parse_target("a..b").target);
  EXPECT_FALSE(parse_target("bad domain").target);
  EXPECT_FALSE(parse_target("[mx.example.com").target);
  EXPECT_FALSE(parse_target("[mx.example.com]:0").target);
  EXPECT_FALSE(parse_target("[mx.example.com]:99999").target);
  EXPECT_FALSE(parse_target("[mx.example.com]25").target);
  EXPECT_FALSE(parse_target(std::string(400, 'a')).target);
  EXPECT_FALSE(parse_target(std::string(64, 'a') + ".com").target);
}

TEST(TargetGuard, OnlyPublicAddressesPass) {
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.1.1",
                        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7",
                        "203.0.113.5", "198.18.0.1", "::1", "fe80::1", "fd00::1", "2001:db8::1", "::ffff:10.0.0.1", "::"})
    EXPECT_FALSE(is_public_address(asio::ip::make_address(a))) << a;
  for (const char* a : {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2a00:1450::1", "::ffff:8.8.4.4"})
    EXPECT_TRUE(is_public_address(asio::ip::make_address(a))) << a;
}

TEST(TargetGuard, JudgesTheIpv4InsideTranslationAndTunnelAddresses) {
  for (const char* a : {"2002:7f00:1::1",                           // 6to4 of 127.0.0.1
                        "2002:c0a8:101::1",                         // 6to4 of 192.168.1.1
                        "2001:0:808:808:0:0:80ff:fffe",             // Teredo, client 127.0.0.1
                        "2001:0:a00:1:0:0:f7f7:f7f7",               // Teredo, server 10.0.0.1
                        "64:ff9b::7f00:1", "64:ff9b::10.0.0.1",     // NAT64 of loopback, RFC 1918
                        "64:ff9b:1::808:808",                       // local-use translation prefix
                        "2001:2::1", "2001:10::1",                  // IETF assignments (benchmarking, ORCHID)
                        "3fff::1", "3fff:fff::1",                   // documentation (RFC 9637)
                        "100::1", "5f00::1", "::127.0.0.1",         // discard, SRv6, IPv4-compatible
                        "192.88.99.1"})                             // deprecated 6to4 relay anycast
    EXPECT_FALSE(is_public_address(asio::ip::make_address(a))) << a;
  for (const char* a : {"2002:808:808::1", "2001:0:808:808:0:0:f7f7:f7f7", "64:ff9b::8.8.8.8", "3fff:1000::1"})
    EXPECT_TRUE(is_public_address(asio::ip::make_address(a))) << a;
}

}  // namespace
}  // namespace mxtls
