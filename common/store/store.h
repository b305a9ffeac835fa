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
#include <vector>

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
  // The probe's evidence (probe/probe_facts.h, at most 16 KiB) for `mxtls
  // report --what-if`: kept with the verdict, one per destination; probe
  // history records never keep it ("" when read back).
  std::string facts;
  friend bool operator==(const StoredVerdict&, const StoredVerdict&) = default;
};

class StoreError : public std::runtime_error {
 public:
  // corrupt: the store's data no longer reads as a store (SQLite's
  // "database disk image is malformed", "file is not a database").
  enum class Kind { failed, corrupt };
  explicit StoreError(const std::string& what, Kind kind = Kind::failed) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// What a store found when asked whether its writes still reach the data the
// next start reads.
enum class StoreHealth {
  sound,
  moved,    // a file store whose path no longer names the file it opened (deleted or replaced)
  corrupt,  // a file store whose file no longer reads as one (its header overwritten)
};

// What reopen() carried from the old file into the one the path names now.
struct StoreCarryOver {
  std::size_t verdicts = 0;
  std::size_t probes = 0;
  bool created = false;  // the path named nothing: the file was made anew
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

  // Replaces the verdicts and appends the probe records in one step: all or
  // nothing, durable when it returns. Throws StoreError.
  virtual void write(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& probes) = 0;
  // Cheap (a few system calls): how the store stands before a write. A
  // store with no file of its own (Redis) is always sound.
  virtual StoreHealth health() { return StoreHealth::sound; }
  // After health() said moved: opens the path again (creating the file if
  // nothing is there) and copies into it what the old file holds, so that
  // nothing stored is lost. Throws StoreError; the old file stays in use
  // until a reopen succeeds.
  virtual StoreCarryOver reopen() { return {}; }
};

}  // namespace mxtls
