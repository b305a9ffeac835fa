#include "probe/address_order.h"

#include <algorithm>

namespace mxtls {
namespace {

// smtp_balance_inet_proto: when both families are present and more
// addresses than the limit, keep enough of each (the first address's family
// gets the odd one), without changing their order.
void balance_families(std::vector<MxAddress>& list, int limit) {
  int v4 = 0, v6 = 0;
  for (const auto& a : list) (a.address.is_v6() ? v6 : v4)++;
  if (v4 == 0 || v6 == 0 || v4 + v6 <= limit) return;
  int v4_target, v6_target;
  if (v6 <= limit / 2) {
    v6_target = v6;
    v4_target = limit - v6;
  } else if (v4 <= limit / 2) {
    v4_target = v4;
    v6_target = limit - v4;
  } else {
    v4_target = (limit + (list.front().address.is_v4() ? 1 : 0)) / 2;
    v6_target = limit - v4_target;
  }
  std::erase_if(list, [&](const MxAddress& a) { return (a.address.is_v6() ? v6_target : v4_target)-- <= 0; });
}

}  // namespace

AddressPlan plan_addresses(std::vector<MxAddress> addresses, const MtaConnection& connection) {
  std::erase_if(addresses, [&](const MxAddress& a) { return a.address.is_v6() ? !connection.ipv6 : !connection.ipv4; });
  const bool v4_first = connection.preference == AddressPreference::ipv4;
  std::stable_sort(addresses.begin(), addresses.end(), [v4_first](const MxAddress& a, const MxAddress& b) {
    if (a.preference != b.preference) return a.preference < b.preference;
    return a.address.is_v4() == v4_first && b.address.is_v4() != v4_first;
  });
  const int limit = connection.address_limit > 0 ? std::min(connection.address_limit, kMaxAddressesTried) : kMaxAddressesTried;
  const auto total = static_cast<int>(addresses.size());
  if (connection.address_limit > 0 && connection.balance_families) balance_families(addresses, connection.address_limit);
  AddressPlan plan;
  if (total > limit) addresses.resize(static_cast<std::size_t>(limit));
  plan.beyond_limit = total - static_cast<int>(addresses.size());
  plan.tried = std::move(addresses);
  return plan;
}

}  // namespace mxtls
