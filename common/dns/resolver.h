// Asynchronous DNS over libunbound, driven by the io_context: libunbound's
// result fd is watched by Asio, so thousands of lookups share one thread.
// Answers keep NXDOMAIN, no data, SERVFAIL/bogus and timeout apart, because
// the classifier treats them differently. With [dns] trust_anchor set it
// validates DNSSEC itself and says of each answer whether it is secure,
// insecure or bogus (DANE needs it); without, every answer is insecure.
// Not a recursive resolver policy engine: it forwards to the configured
// server or /etc/resolv.conf's.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/asio.h"

struct ub_ctx;

namespace mxtls::dns {

enum class Status { ok, nodata, nxdomain, servfail, timeout };
std::string_view status_name(Status s);

// DNSSEC status of an answer (RFC 4035 4.3). A bogus answer's status is
// servfail (no data is handed out), as a validating resolver answers.
enum class Security { insecure, secure, bogus };
std::string_view security_name(Security s);  // insecure, secure, bogus

struct Answer {
  Status status = Status::servfail;
  Security security = Security::insecure;
  std::vector<std::string> rdata;  // raw wire-format record data, at most max_records
  std::size_t total = 0;           // records in the answer (more than rdata.size() when bounded)
  std::string detail;              // why, when not ok (for logs)
};

inline constexpr int kTypeA = 1, kTypeMX = 15, kTypeTXT = 16, kTypeAAAA = 28, kTypeTLSA = 52;
inline constexpr std::size_t kDefaultMaxRecords = 64;

class Resolver {
 public:
  // Throws std::runtime_error with libunbound's message on bad settings.
  Resolver(asio::io_context& io, const DnsConfig& config);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // At most max_records records are kept (Answer::total counts them all).
  // The resolver must outlive every coroutine awaiting a query, suspended
  // frames included: destroy them first (io_context shutdown) when stopping.
  asio::awaitable<Answer> query(const std::string& name, int rrtype, std::size_t max_records = kDefaultMaxRecords);
  // Whether answers are DNSSEC-validated (a trust anchor is configured).
  bool validating() const { return validating_; }

 private:
  void watch();
  asio::io_context& io_;
  ub_ctx* ctx_;
  asio::posix::stream_descriptor fd_;
  std::chrono::milliseconds timeout_;
  int outstanding_ = 0;
  bool watching_ = false;
  bool validating_ = false;
  std::FILE* quiet_ = nullptr;  // where libunbound's log lines go
};

}  // namespace mxtls::dns
