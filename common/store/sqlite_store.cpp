#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace mxtls {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS verdicts (
  domain TEXT PRIMARY KEY, reason TEXT NOT NULL, severity TEXT NOT NULL, outcome TEXT NOT NULL,
  level TEXT NOT NULL, mx TEXT NOT NULL, tls TEXT NOT NULL, detail TEXT NOT NULL,
  probed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, facts TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS probes (
  id INTEGER PRIMARY KEY, domain TEXT NOT NULL, reason TEXT NOT NULL, severity TEXT NOT NULL,
  outcome TEXT NOT NULL, level TEXT NOT NULL, mx TEXT NOT NULL, tls TEXT NOT NULL, detail TEXT NOT NULL,
  probed_at INTEGER NOT NULL, facts TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS probes_by_time ON probes(probed_at);
)";

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

constexpr const char* kPutVerdict =
    "INSERT OR REPLACE INTO verdicts(domain, reason, severity, outcome, level, mx, tls, detail, probed_at, expires_at, facts)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr const char* kSqliteVerdictColumns = "domain, reason, severity, outcome, level, mx, tls, detail, probed_at, expires_at, facts";
constexpr const char* kRecordProbe =
    "INSERT INTO probes(domain, reason, severity, outcome, level, mx, tls, detail, probed_at, facts)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11)";
// Carrying history into a file that may be a copy of ours: a record it
// already holds is not added twice.
constexpr const char* kCarryProbe =
    "INSERT INTO probes(domain, reason, severity, outcome, level, mx, tls, detail, probed_at, facts)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11 WHERE NOT EXISTS"
    " (SELECT 1 FROM probes WHERE probed_at = ?9 AND domain = ?1 AND mx = ?6 AND reason = ?2)";

// The error SQLite reports on `db`, as a StoreError naming the store; damage
// to the file is told apart from every other failure.
[[noreturn]] void fail(sqlite3* db, const std::string& path) {
  const int code = sqlite3_errcode(db) & 0xff;
  throw StoreError("store " + path + ": " + sqlite3_errmsg(db),
                   code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? StoreError::Kind::corrupt : StoreError::Kind::failed);
}

void run(sqlite3* db, const std::string& path, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path);
}

Statement prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) fail(db, path);
  return Statement(s, sqlite3_finalize);
}

void step_done(sqlite3* db, const std::string& path, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) fail(db, path);
}

// A store written before verdicts (and transport failures' history
// records) kept their probe's facts gets the column in `table` (empty for
// what is there: `mxtls report --what-if` says "no facts stored").
void add_facts_column(sqlite3* db, const std::string& path, const std::string& table) {
  auto s = prepare(db, path, ("SELECT 1 FROM pragma_table_info('" + table + "') WHERE name = 'facts'").c_str());
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return;
  if (rc != SQLITE_DONE) fail(db, path);
  run(db, path, ("ALTER TABLE " + table + " ADD COLUMN facts TEXT NOT NULL DEFAULT ''").c_str());
}

// One connection with the store's settings and schema.
sqlite3* open_database(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw StoreError("store " + path + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db, 5000);
    run(db, path, "PRAGMA journal_mode=WAL");
    run(db, path, "PRAGMA synchronous=FULL");
    run(db, path, kSchema);
    add_facts_column(db, path, "verdicts");
    add_facts_column(db, path, "probes");
  } catch (const StoreError&) {
    sqlite3_close(db);
    throw;
  }
  return db;
}

// Runs `body` in one write transaction on `db`: all of it is stored, or none.
template <typename Body>
void in_transaction(sqlite3* db, const std::string& path, Body&& body) {
  run(db, path, "BEGIN IMMEDIATE");
  try {
    body();
    run(db, path, "COMMIT");
  } catch (const StoreError&) {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::string column(sqlite3_stmt* s, int i) {
  const auto* text = sqlite3_column_text(s, i);
  return text ? reinterpret_cast<const char*>(text) : "";
}

StoredVerdict row_to_verdict(sqlite3_stmt* s) {
  StoredVerdict v;
  v.domain = column(s, 0);
  v.reason = reason_from_code(column(s, 1)).value_or(Reason::handshake_failed);
  v.severity = severity_from_name(column(s, 2)).value_or(Severity::unreachable);
  v.outcome = outcome_from_name(column(s, 3)).value_or(Outcome::deferred);
  v.level = column(s, 4);
  v.mx = column(s, 5);
  v.tls = column(s, 6);
  v.detail = column(s, 7);
  v.probed_at = sqlite3_column_int64(s, 8);
  v.expires_at = sqlite3_column_int64(s, 9);
  if (sqlite3_column_count(s) > 10) v.facts = column(s, 10);
  return v;
}

// Binds ?1-?9, ?10 (expiry) when with_expiry, and ?11 (facts).
void bind_verdict(sqlite3_stmt* s, const StoredVerdict& v, bool with_expiry) {
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, v.domain.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, std::string(reason_code(v.reason)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, std::string(severity_name(v.severity)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 4, std::string(outcome_name(v.outcome)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 5, v.level.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 6, v.mx.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 7, v.tls.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 8, v.detail.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 9, v.probed_at);
  if (with_expiry) sqlite3_bind_int64(s, 10, v.expires_at);
  sqlite3_bind_text(s, 11, v.facts.c_str(), static_cast<int>(v.facts.size()), SQLITE_TRANSIENT);
}

// The two inserts a batch makes, prepared once for all its rows.
class Inserts {
 public:
  Inserts(sqlite3* db, const std::string& path, const char* probe_sql)
      : db_(db), path_(path), verdict_(prepare(db, path, kPutVerdict)), probe_(prepare(db, path, probe_sql)) {}
  void verdict(const StoredVerdict& v) {
    bind_verdict(verdict_.get(), v, true);
    step_done(db_, path_, verdict_.get());
  }
  void probe(const StoredVerdict& v) {
    bind_verdict(probe_.get(), v, false);
    step_done(db_, path_, probe_.get());
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  Statement verdict_, probe_;
};

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : path_(path), db_(open_database(path)), files_(identify(path)) {}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

SqliteStore::Files SqliteStore::identify(const std::string& path) {
  const auto id = [](const std::string& name) -> std::optional<FileId> {
    struct stat st;
    if (::stat(name.c_str(), &st) != 0) return std::nullopt;
    return FileId{st.st_dev, st.st_ino};
  };
  return {id(path), id(path + "-wal"), id(path + "-shm")};
}

void SqliteStore::put(const StoredVerdict& v) { write({v}, {}); }

std::optional<StoredVerdict> SqliteStore::get(const std::string& domain) {
  auto s = prepare(db_, path_, (std::string("SELECT ") + kSqliteVerdictColumns + " FROM verdicts WHERE domain = ?1").c_str());
  sqlite3_bind_text(s.get(), 1, domain.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(db_, path_);
  return row_to_verdict(s.get());
}

void SqliteStore::for_each(const std::function<void(const StoredVerdict&)>& visit) {
  auto s = prepare(db_, path_, (std::string("SELECT ") + kSqliteVerdictColumns + " FROM verdicts ORDER BY domain").c_str());
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) visit(row_to_verdict(s.get()));
  if (rc != SQLITE_DONE) fail(db_, path_);
}

bool SqliteStore::forget(const std::string& domain) {
  auto s = prepare(db_, path_, "DELETE FROM verdicts WHERE domain = ?1");
  sqlite3_bind_text(s.get(), 1, domain.c_str(), -1, SQLITE_TRANSIENT);
  step_done(db_, path_, s.get());
  return sqlite3_changes(db_) > 0;
}

std::size_t SqliteStore::flush() {
  run(db_, path_, "DELETE FROM verdicts");
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

void SqliteStore::record_probe(const StoredVerdict& v) { write({}, {v}); }

void SqliteStore::for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) {
  auto s = prepare(db_, path_,
                   "SELECT domain, reason, severity, outcome, level, mx, tls, detail, probed_at, 0, facts FROM probes"
                   " WHERE probed_at >= ?1 ORDER BY probed_at, id");
  sqlite3_bind_int64(s.get(), 1, since);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) visit(row_to_verdict(s.get()));
  if (rc != SQLITE_DONE) fail(db_, path_);
}

std::size_t SqliteStore::prune_history(int64_t before) {
  auto s = prepare(db_, path_, "DELETE FROM probes WHERE probed_at < ?1");
  sqlite3_bind_int64(s.get(), 1, before);
  step_done(db_, path_, s.get());
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

std::size_t SqliteStore::history_size() {
  auto s = prepare(db_, path_, "SELECT COUNT(*) FROM probes");
  if (sqlite3_step(s.get()) != SQLITE_ROW) fail(db_, path_);
  return static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0));
}

void SqliteStore::write(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& probes) {
  in_transaction(db_, path_, [&] {
    Inserts into(db_, path_, kRecordProbe);
    for (const auto& v : verdicts) into.verdict(v);
    for (const auto& v : probes) into.probe(v);
  });
}

StoreHealth SqliteStore::health() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return errno == ENOENT || errno == ENOTDIR ? StoreHealth::moved : StoreHealth::sound;
  if (FileId{st.st_dev, st.st_ino} != files_.db) return StoreHealth::moved;
  // The header through SQLite's own descriptor: opening and closing another
  // one would drop the process's POSIX locks on the file.
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods)
    return StoreHealth::sound;
  char header[16] = {};
  const int rc = file->pMethods->xRead(file, header, sizeof header, 0);
  if (rc == SQLITE_IOERR_SHORT_READ || (rc == SQLITE_OK && std::memcmp(header, "SQLite format 3", sizeof header) != 0))
    return StoreHealth::corrupt;
  return StoreHealth::sound;
}

StoreCarryOver SqliteStore::reopen() {
  // The WAL and shared-memory files the path still names are db_'s: a
  // connection opened at the path must not take them for its own (it would
  // replay the WAL into the new file, or reset the wal-index db_ maps).
  const Files named = identify(path_);
  if (files_.wal && named.wal == files_.wal) ::unlink((path_ + "-wal").c_str());
  if (files_.shm && named.shm == files_.shm) ::unlink((path_ + "-shm").c_str());
  StoreCarryOver carried;
  carried.created = !named.db;
  sqlite3* fresh = open_database(path_);
  try {
    in_transaction(fresh, path_, [&] {
      Inserts into(fresh, path_, kCarryProbe);
      for_each([&](const StoredVerdict& v) {
        into.verdict(v);
        ++carried.verdicts;
      });
      for_each_probe(0, [&](const StoredVerdict& v) {
        into.probe(v);
        ++carried.probes;
      });
    });
  } catch (const StoreError&) {
    sqlite3_close(fresh);
    throw;
  }
  sqlite3_close(db_);  // SQLite sees its file moved: no checkpoint, nothing deleted by name
  db_ = fresh;
  files_ = identify(path_);
  return carried;
}

std::string SqliteStore::set_aside(const std::string& path) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string aside = path + ".corrupt-" + stamp;
  for (const char* suffix : {"", "-wal"}) {
    if (::rename((path + suffix).c_str(), (aside + suffix).c_str()) != 0 && errno != ENOENT)
      throw StoreError("store " + path + ": cannot set it aside as " + aside + suffix + ": " + std::strerror(errno));
  }
  ::unlink((path + "-shm").c_str());
  return aside;
}

}  // namespace mxtls
