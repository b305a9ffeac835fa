// A blocking client of mxtls-policyd's policy protocol for callers that run
// on their own threads (mxtls-milter's libmilter threads): a pool of reused
// connections, one deadline per request covering connect, send and reply,
// and replies parsed by the same bounded parser the daemon uses. Values sent
// are made single-line so no caller can inject attributes.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/socket_address.h"

namespace mxtls {

class PolicyClient {
 public:
  // target: one of mxtls-policyd's [policy] listen addresses.
  PolicyClient(SocketAddress target, std::chrono::milliseconds timeout, std::size_t max_idle = 16);
  ~PolicyClient();
  PolicyClient(const PolicyClient&) = delete;
  PolicyClient& operator=(const PolicyClient&) = delete;

  using Attributes = std::vector<std::pair<std::string, std::string>>;
  // The reply's attributes, or nullopt with `error` set when the engine did
  // not answer within the deadline.
  std::optional<std::map<std::string, std::string>> ask(const Attributes& request, std::string& error);

 private:
  int open_connection(std::chrono::steady_clock::time_point deadline, std::string& error);
  std::optional<std::map<std::string, std::string>> exchange(int fd, const std::string& wire,
                                                             std::chrono::steady_clock::time_point deadline,
                                                             std::string& error);
  SocketAddress target_;
  std::chrono::milliseconds timeout_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<int> idle_;
};

}  // namespace mxtls
