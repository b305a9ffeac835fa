#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <memory>

namespace mxtls {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS verdicts (
  domain TEXT PRIMARY KEY, reason TEXT NOT NULL, severity TEXT NOT NULL, outcome TEXT NOT NULL,
  level TEXT NOT NULL, mx TEXT NOT NULL, tls TEXT NOT NULL, detail TEXT NOT NULL,
  probed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS probes (
  id INTEGER PRIMARY KEY, domain TEXT NOT NULL, reason TEXT NOT NULL, severity TEXT NOT NULL,
  outcome TEXT NOT NULL, level TEXT NOT NULL, mx TEXT NOT NULL, tls TEXT NOT NULL, detail TEXT NOT NULL,
  probed_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS probes_by_time ON probes(probed_at);
)";

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

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
  return v;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("store " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(kSchema);
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

void SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StoreError("store " + path_ + ": " + why);
  }
}

namespace {

Statement prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
    throw StoreError("store " + path + ": " + sqlite3_errmsg(db));
  return Statement(s, sqlite3_finalize);
}

void bind_verdict(sqlite3_stmt* s, const StoredVerdict& v, bool with_expiry) {
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
}

}  // namespace

void SqliteStore::put(const StoredVerdict& v) {
  auto s = prepare(db_, path_,
                   "INSERT OR REPLACE INTO verdicts(domain, reason, severity, outcome, level, mx, tls, detail, probed_at, expires_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  bind_verdict(s.get(), v, true);
  if (sqlite3_step(s.get()) != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
}

std::optional<StoredVerdict> SqliteStore::get(const std::string& domain) {
  auto s = prepare(db_, path_,
                   "SELECT domain, reason, severity, outcome, level, mx, tls, detail, probed_at, expires_at FROM verdicts WHERE domain = ?1");
  sqlite3_bind_text(s.get(), 1, domain.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return row_to_verdict(s.get());
}

void SqliteStore::for_each(const std::function<void(const StoredVerdict&)>& visit) {
  auto s = prepare(db_, path_,
                   "SELECT domain, reason, severity, outcome, level, mx, tls, detail, probed_at, expires_at FROM verdicts ORDER BY domain");
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) visit(row_to_verdict(s.get()));
  if (rc != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
}

bool SqliteStore::forget(const std::string& domain) {
  auto s = prepare(db_, path_, "DELETE FROM verdicts WHERE domain = ?1");
  sqlite3_bind_text(s.get(), 1, domain.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

std::size_t SqliteStore::flush() {
  exec("DELETE FROM verdicts");
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

void SqliteStore::record_probe(const StoredVerdict& v) {
  auto s = prepare(db_, path_,
                   "INSERT INTO probes(domain, reason, severity, outcome, level, mx, tls, detail, probed_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  bind_verdict(s.get(), v, false);
  if (sqlite3_step(s.get()) != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
}

void SqliteStore::for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) {
  auto s = prepare(db_, path_,
                   "SELECT domain, reason, severity, outcome, level, mx, tls, detail, probed_at, 0 FROM probes"
                   " WHERE probed_at >= ?1 ORDER BY probed_at, id");
  sqlite3_bind_int64(s.get(), 1, since);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) visit(row_to_verdict(s.get()));
  if (rc != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
}

std::size_t SqliteStore::prune_history(int64_t before) {
  auto s = prepare(db_, path_, "DELETE FROM probes WHERE probed_at < ?1");
  sqlite3_bind_int64(s.get(), 1, before);
  if (sqlite3_step(s.get()) != SQLITE_DONE) throw StoreError("store " + path_ + ": " + sqlite3_errmsg(db_));
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

std::size_t SqliteStore::history_size() {
  auto s = prepare(db_, path_, "SELECT COUNT(*) FROM probes");
  sqlite3_step(s.get());
  return static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0));
}

}  // namespace mxtls
