// probe/address_order: the order and the limit in which our MTA tries MX
// addresses, as Postfix's smtp_addr.c sorts, balances and truncates them.
#include "probe/address_order.h"

#include <gtest/gtest.h>

namespace mxtls {
namespace {

MxAddress at(const char* host, int preference, const char* address) {
  return {host, preference, true, asio::ip::make_address(address)};
}

std::vector<std::string> order(const AddressPlan& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.tried) out.push_back(a.host + "[" + a.address.to_string() + "]");
  return out;
}

TEST(AddressOrder, PreferenceFirstThenFamily) {
  const std::vector<MxAddress> in{at("mx1", 10, "192.0.2.1"), at("mx1", 10, "2001:db8::1"), at("mx2", 20, "192.0.2.2")};
  MtaConnection any;
  EXPECT_EQ(order(plan_addresses(in, any)),
            (std::vector<std::string>{"mx1[2001:db8::1]", "mx1[192.0.2.1]", "mx2[192.0.2.2]"}));
  MtaConnection v4_first;
  v4_first.preference = AddressPreference::ipv4;
  EXPECT_EQ(order(plan_addresses(in, v4_first)),
            (std::vector<std::string>{"mx1[192.0.2.1]", "mx1[2001:db8::1]", "mx2[192.0.2.2]"}));
}

TEST(AddressOrder, InetProtocolsDropsTheOtherFamily) {
  const std::vector<MxAddress> in{at("mx1", 10, "192.0.2.1"), at("mx1", 10, "2001:db8::1")};
  MtaConnection v4;
  v4.ipv6 = false;
  EXPECT_EQ(order(plan_addresses(in, v4)), (std::vector<std::string>{"mx1[192.0.2.1]"}));
  MtaConnection v6;
  v6.ipv4 = false;
  EXPECT_EQ(order(plan_addresses(in, v6)), (std::vector<std::string>{"mx1[2001:db8::1]"}));
}

TEST(AddressOrder, LimitStopsAndIsCounted) {
  std::vector<MxAddress> in;
  for (int i = 1; i <= 7; ++i) in.push_back(at("mx", 10, ("192.0.2." + std::to_string(i)).c_str()));
  const auto plan = plan_addresses(in, MtaConnection{});
  EXPECT_EQ(plan.tried.size(), 5u);
  EXPECT_EQ(plan.beyond_limit, 2);
  EXPECT_EQ(plan.tried.front().address.to_string(), "192.0.2.1");
  MtaConnection unlimited;
  unlimited.address_limit = 0;  // Postfix: no limit; a probe still stops
  EXPECT_EQ(plan_addresses(std::vector<MxAddress>(30, in.front()), unlimited).tried.size(),
            static_cast<std::size_t>(kMaxAddressesTried));
}

// smtp_balance_inet_protocols: six IPv6 addresses must not crowd out the IPv4 one.
TEST(AddressOrder, BalanceKeepsBothFamiliesWithinTheLimit) {
  std::vector<MxAddress> in;
  for (int i = 1; i <= 6; ++i) in.push_back(at("mx", 10, ("2001:db8::" + std::to_string(i)).c_str()));
  in.push_back(at("mx", 10, "192.0.2.1"));
  auto plan = plan_addresses(in, MtaConnection{});
  ASSERT_EQ(plan.tried.size(), 5u);
  EXPECT_EQ(plan.tried.back().address.to_string(), "192.0.2.1");
  EXPECT_EQ(plan.beyond_limit, 2);
  MtaConnection unbalanced;
  unbalanced.balance_families = false;
  plan = plan_addresses(in, unbalanced);
  EXPECT_TRUE(std::none_of(plan.tried.begin(), plan.tried.end(), [](const MxAddress& a) { return a.address.is_v4(); }));
}

}  // namespace
}  // namespace mxtls
