#include "client_networks.h"

#include <charconv>

#include "config/config.h"
#include "util/split.h"

namespace mxtls {
namespace {

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
  for (unsigned i = 0; bits > 0; ++i, bits = bits > 8 ? bits - 8 : 0) {
    const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

}  // namespace

ClientNetworks::ClientNetworks(const std::string& list) {
  for (const auto& item : split_list(list)) {
    const auto slash = item.find('/');
    boost::system::error_code ec;
    const auto base = asio::ip::make_address(item.substr(0, slash), ec);
    if (ec) throw ConfigError("milter.networks: '" + item + "' is not an address or network");
    unsigned prefix = base.is_v4() ? 32 : 128;
    if (slash != std::string::npos) {
      const auto r = std::from_chars(item.data() + slash + 1, item.data() + item.size(), prefix);
      if (r.ec != std::errc() || r.ptr != item.data() + item.size() || prefix > (base.is_v4() ? 32u : 128u))
        throw ConfigError("milter.networks: bad prefix length in '" + item + "'");
    }
    networks_.push_back({base, prefix});
  }
}

bool ClientNetworks::contains(const asio::ip::address& address) const {
  for (const auto& n : networks_) {
    if (n.base.is_v4() && address.is_v4()) {
      const auto a = address.to_v4().to_bytes(), b = n.base.to_v4().to_bytes();
      if (prefix_equal(a.data(), b.data(), n.prefix)) return true;
    } else if (n.base.is_v6() && address.is_v6()) {
      const auto a = address.to_v6().to_bytes(), b = n.base.to_v6().to_bytes();
      if (prefix_equal(a.data(), b.data(), n.prefix)) return true;
    }
  }
  return false;
}

bool ClientNetworks::contains(const std::string& address) const {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(address, ec);
  return !ec && contains(a);
}

}  // namespace mxtls
