// Asynchronous DNS over libunbound, driven by the io_context: libunbound's
// result fd is watched by Asio, so thousands of lookups share one thread.
// Answers keep NXDOMAIN, no data, SERVFAIL/bogus and timeout apart, because
// the classifier treats them differently. Not a recursive resolver policy
// engine: it forwards to the configured server or /etc/resolv.conf's.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/asio.h"

struct ub_ctx;

namespace mxtls::dns {

enum class Status { ok, nodata, nxdomain, servfail, timeout };
std::string_view status_name(Status s);

struct Answer {
  Status status = Status::servfail;
  std::vector<std::string> rdata;  // raw wire-format record data
  std::string detail;              // why, when not ok (for logs)
};

inline constexpr int kTypeA = 1, kTypeMX = 15, kTypeTXT = 16, kTypeAAAA = 28;

class Resolver {
 public:
  // Throws std::runtime_error with libunbound's message on bad settings.
  Resolver(asio::io_context& io, const DnsConfig& config);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  asio::awaitable<Answer> query(const std::string& name, int rrtype);

 private:
  void watch();
  asio::io_context& io_;
  ub_ctx* ctx_;
  asio::posix::stream_descriptor fd_;
  std::chrono::milliseconds timeout_;
  int outstanding_ = 0;
  bool watching_ = false;
};

}  // namespace mxtls::dns
