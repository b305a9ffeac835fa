// VerdictStore on SQLite in WAL mode with synchronous=FULL: a verdict is on
// disk when put() returns, so a restart (even after SIGKILL mid-write) keeps
// every verdict that was stored. One connection per process; callers
// serialise access (the daemon uses one writer thread).
#pragma once
#include <string>

#include "store/store.h"

struct sqlite3;

namespace mxtls {

class SqliteStore final : public VerdictStore {
 public:
  // Creates the file and schema if missing. Throws StoreError naming the path.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void put(const StoredVerdict& v) override;
  std::optional<StoredVerdict> get(const std::string& domain) override;
  void for_each(const std::function<void(const StoredVerdict&)>& visit) override;
  bool forget(const std::string& domain) override;
  std::size_t flush() override;
  void record_probe(const StoredVerdict& v) override;
  void for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) override;
  std::size_t prune_history(int64_t before) override;
  std::size_t history_size() override;

 private:
  void exec(const char* sql);
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace mxtls
