// milter/: the verdict header and the client-network matching.
#include <gtest/gtest.h>

#include "client_networks.h"
#include "config/config.h"
#include "verdict_header.h"

namespace mxtls {
namespace {

TEST(VerdictHeader, OneEntryPerDomainInFirstSeenOrder) {
  std::vector<DomainVerdict> list;
  add_domain_verdict(list, {"legacy.example", "incompatible", "protocol_version"});
  add_domain_verdict(list, {"good.example", "ok", "ok"});
  add_domain_verdict(list, {"legacy.example", "ok", "ok"});
  add_domain_verdict(list, {"new.example", "unknown", ""});
  EXPECT_EQ(format_verdict_header(list), "legacy.example=incompatible(protocol_version); good.example=ok; new.example=unknown");
}

TEST(ClientNetworks, MatchesV4AndV6Prefixes) {
  const ClientNetworks n("127.0.0.0/8 192.0.2.7 2001:db8::/32");
  EXPECT_TRUE(n.contains("127.1.2.3"));
  EXPECT_TRUE(n.contains("192.0.2.7"));
  EXPECT_FALSE(n.contains("192.0.2.8"));
  EXPECT_TRUE(n.contains("2001:db8:1::5"));
  EXPECT_FALSE(n.contains("2001:db9::1"));
  EXPECT_FALSE(n.contains("not an address"));
  EXPECT_FALSE(ClientNetworks("").contains("127.0.0.1"));
}

TEST(ClientNetworks, BadItemsAreConfigErrors) {
  EXPECT_THROW(ClientNetworks("10.0.0.0/33"), ConfigError);
  EXPECT_THROW(ClientNetworks("banana"), ConfigError);
  EXPECT_THROW(ClientNetworks("10.0.0.0/x"), ConfigError);
}

}  // namespace
}  // namespace mxtls
