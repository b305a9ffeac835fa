// VerdictStore on SQLite in WAL mode with synchronous=FULL: a verdict is on
// disk when put() returns, so a restart (even after SIGKILL mid-write) keeps
// every verdict that was stored. One connection per process; callers
// serialise access (the daemon uses one writer thread). It knows the file it
// opened (device and inode): health() tells a deleted or replaced file, or
// one whose header is no longer SQLite's, and reopen() moves its contents to
// whatever the path names now.
#pragma once
#include <sys/types.h>

#include <optional>
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
  void write(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& probes) override;
  StoreHealth health() override;
  StoreCarryOver reopen() override;

  // Moves a store's files out of the way (not in use by this process): the
  // database and its WAL are renamed to `path`.corrupt-<time>[-wal], so an
  // operator can salvage them; returns the new name. Throws StoreError.
  static std::string set_aside(const std::string& path);

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    friend bool operator==(const FileId&, const FileId&) = default;
  };
  struct Files {
    std::optional<FileId> db, wal, shm;
  };
  static Files identify(const std::string& path);
  std::string path_;
  sqlite3* db_ = nullptr;
  Files files_;  // the files db_ has open, as the path named them when opened
};

}  // namespace mxtls
