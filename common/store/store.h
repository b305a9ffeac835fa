// Where verdicts outlive the process: the interface both the SQLite store
// (one host) and a Redis store (a fleet) implement, and the one test suite
// (tests/unit/store_test.cpp) both must pass. The daemon's hot path never
// reads it; it loads it at start and writes through after each probe.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "verdict/verdict.h"

namespace mxtls {

struct StoredVerdict {
  std::string domain;
  Reason reason = Reason::ok;
  Severity severity = Severity::ok;
  Outcome outcome = Outcome::tls;
  std::string level;   // security level it was judged under
  std::string mx;      // deciding MX host, "host[addr]:port"
  std::string tls;     // negotiated TLS version, "" if none
  std::string detail;
  int64_t probed_at = 0;   // Unix seconds
  int64_t expires_at = 0;
  friend bool operator==(const StoredVerdict&, const StoredVerdict&) = default;
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class VerdictStore {
 public:
  virtual ~VerdictStore() = default;
  // Replaces the domain's verdict; durable when it returns. Throws StoreError.
  virtual void put(const StoredVerdict& v) = 0;
  virtual std::optional<StoredVerdict> get(const std::string& domain) = 0;
  virtual void for_each(const std::function<void(const StoredVerdict&)>& visit) = 0;
  virtual bool forget(const std::string& domain) = 0;
  virtual std::size_t flush() = 0;  // forgets every verdict, keeps history
  // Appends to the probe history that `mxtls report` reads.
  virtual void record_probe(const StoredVerdict& v) = 0;
  // The probe history from `since` (Unix seconds) on, oldest first.
  virtual void for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) = 0;
  // Deletes the probe history before `before` (Unix seconds); returns how many records.
  virtual std::size_t prune_history(int64_t before) = 0;
  virtual std::size_t history_size() = 0;
};

}  // namespace mxtls
