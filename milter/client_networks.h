// Which clients' mail the milter inspects: a list of CIDR networks parsed
// from [milter] networks, matched against the connecting client's address.
// Pure; bad entries are configuration errors naming the item.
#pragma once
#include <string>
#include <vector>

#include "util/asio.h"

namespace mxtls {

class ClientNetworks {
 public:
  // "127.0.0.0/8 ::1/128 192.0.2.7"; throws ConfigError naming the bad item.
  explicit ClientNetworks(const std::string& list);
  bool contains(const asio::ip::address& address) const;
  bool contains(const std::string& address) const;

 private:
  struct Network {
    asio::ip::address base;
    unsigned prefix;
  };
  std::vector<Network> networks_;
};

}  // namespace mxtls
