// dns/rdata: wire-format MX, A, AAAA decoding and rejection of bad names.
#include <gtest/gtest.h>

#include "dns/rdata.h"

namespace mxtls::dns {
namespace {

std::string wire(std::initializer_list<std::string> labels) {
  std::string w;
  for (const auto& l : labels) w += static_cast<char>(l.size()) + l;
  return w + '\0';
}

TEST(Rdata, DecodesMx) {
  const auto mx = parse_mx(std::string("\x00\x0a", 2) + wire({"MX1", "Example", "org"}));
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 10);
  EXPECT_EQ(mx->host, "mx1.example.org");
}

TEST(Rdata, NullMxIsEmptyHost) {
  const auto mx = parse_mx(std::string("\x00\x00\x00", 3));
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->host, "");
}

TEST(Rdata, RejectsBadNames) {
  EXPECT_FALSE(parse_mx(std::string("\x00\x0a", 2)));                          // no name
  EXPECT_FALSE(parse_mx(std::string("\x00\x0a\xc0\x0c", 4)));                  // compression pointer
  EXPECT_FALSE(parse_mx(std::string("\x00\x0a\x05" "ab", 5)));                 // label overruns
  EXPECT_FALSE(parse_name(wire({"a b"})));                                     // space in label
  EXPECT_FALSE(parse_name(wire({"a\nb"})));                                    // control character
  EXPECT_FALSE(parse_name(wire({"ok"}) + "x"));                                // trailing bytes
  EXPECT_FALSE(parse_name(wire({std::string(64, 'a')})));                      // label > 63
}

TEST(Rdata, DecodesAddresses) {
  EXPECT_EQ(*parse_a(std::string("\x7f\x00\x00\x0a", 4)), "127.0.0.10");
  EXPECT_FALSE(parse_a("abc"));
  std::string v6(16, '\0');
  v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = static_cast<char>(0xb8); v6[15] = 1;
  EXPECT_EQ(*parse_aaaa(v6), "2001:db8::1");
  EXPECT_FALSE(parse_aaaa("short"));
}

}  // namespace
}  // namespace mxtls::dns
