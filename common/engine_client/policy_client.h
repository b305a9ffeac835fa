// A blocking client of mxtls-policyd's policy protocol for callers that run
// on their own threads (mxtls-milter's libmilter threads): a pool of reused
// connections, one deadline per request covering connect, send and reply,
// and replies framed by the same bounded parser the daemon uses. It moves
// bytes; what a request and a reply say is codec/engine_verdict.h's.
#pragma once
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
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

  // Sends one encoded request; returns one complete reply (its attribute
  // lines and the empty line), or nullopt with `error` set when the engine
  // did not answer well-formed within the deadline.
  std::optional<std::string> ask(const std::string& request, std::string& error);

 private:
  int open_connection(std::chrono::steady_clock::time_point deadline, std::string& error);
  std::optional<std::string> exchange(int fd, const std::string& wire, std::chrono::steady_clock::time_point deadline,
                                      std::string& error);
  SocketAddress target_;
  std::chrono::milliseconds timeout_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<int> idle_;
};

}  // namespace mxtls
