// store/: the suite every VerdictStore backend must pass, each opened by
// open_store() from its [store] configuration (a backend joins by adding a
// line to kBackends), plus SQLite's persistence across reopen and across a
// process killed in the middle of writing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "engine/store_writer.h"
#include "store/open_store.h"
#include "store/probe_record.h"
#include "store/sqlite_store.h"

namespace mxtls {
namespace {

// A real redis-server on a unix socket in a scratch directory, for the
// Redis backend; stopped when the object goes.
class RedisServer {
 public:
  explicit RedisServer(const std::string& password = "") {
    static int n = 0;
    dir_ = std::filesystem::temp_directory_path() / ("mxtls-redis-test-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "redis.sock").string();
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<std::string> args{"redis-server", "--port", "0", "--unixsocket", socket_, "--save", "",
                                    "--appendonly", "no", "--dir", dir_.string(), "--logfile", (dir_ / "log").string()};
      if (!password.empty()) args.insert(args.end(), {"--requirepass", password});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    // The socket file appears at bind(), before listen(): wait until it accepts.
    for (int i = 0; i < 500 && !accepts(socket_); ++i) usleep(10000);
    if (!accepts(socket_)) throw std::runtime_error("redis-server did not start (is it installed?)");
  }
  ~RedisServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  const std::string& socket() const { return socket_; }
  static bool accepts(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) close(fd);
    return ok;
  }
  static const RedisServer& shared() {
    static RedisServer server;
    return server;
  }

 private:
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
};

// The [store] section of each backend, given a scratch directory.
using BackendConfig = std::function<StoreConfig(const std::string& dir)>;

StoreConfig store_config(const std::string& backend, const std::string& path = "") {
  StoreConfig c;
  c.backend = backend;
  c.path = path;
  return c;
}

StoredVerdict sample(const std::string& domain, Reason r = Reason::protocol_version) {
  StoredVerdict v;
  v.domain = domain;
  v.reason = r;
  v.severity = Severity::incompatible;
  v.outcome = Outcome::deferred;
  v.level = "encrypt";
  v.mx = "mx." + domain + "[192.0.2.1]:25";
  v.tls = "";
  v.detail = "tlsv1 alert protocol version";
  v.probed_at = 1'800'000'000;
  v.expires_at = 1'800'021'600;
  return v;
}

class StoreSuite : public ::testing::TestWithParam<std::pair<const char*, BackendConfig>> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mxtls-store-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open_store(GetParam().second(dir_.string()), StoreAccess::create);
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<VerdictStore> store_;
};

TEST_P(StoreSuite, PutGetReplace) {
  store_->put(sample("legacy.example"));
  EXPECT_EQ(store_->get("legacy.example"), sample("legacy.example"));
  auto changed = sample("legacy.example", Reason::cert_expired);
  store_->put(changed);
  EXPECT_EQ(store_->get("legacy.example")->reason, Reason::cert_expired);
  EXPECT_FALSE(store_->get("absent.example"));
}

TEST_P(StoreSuite, ListForgetFlush) {
  for (const char* d : {"b.example", "a.example", "c.example"}) store_->put(sample(d));
  std::vector<std::string> seen;
  store_->for_each([&](const StoredVerdict& v) { seen.push_back(v.domain); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a.example", "b.example", "c.example"}));
  EXPECT_TRUE(store_->forget("b.example"));
  EXPECT_FALSE(store_->forget("b.example"));
  EXPECT_EQ(store_->flush(), 2u);
  EXPECT_FALSE(store_->get("a.example"));
}

TEST_P(StoreSuite, HistoryIsKeptAcrossFlush) {
  store_->record_probe(sample("a.example"));
  store_->record_probe(sample("a.example"));
  store_->flush();
  EXPECT_EQ(store_->history_size(), 2u);
}

TEST_P(StoreSuite, HistoryReadsFromATimeOnOldestFirst) {
  for (int64_t at : {1'800'000'300, 1'800'000'100, 1'800'000'200}) {
    auto v = sample("h.example");
    v.probed_at = at;
    store_->record_probe(v);
  }
  std::vector<int64_t> seen;
  store_->for_each_probe(1'800'000'200, [&](const StoredVerdict& v) {
    EXPECT_EQ(v.domain, "h.example");
    EXPECT_EQ(v.reason, Reason::protocol_version);
    seen.push_back(v.probed_at);
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{1'800'000'200, 1'800'000'300}));
}

TEST_P(StoreSuite, PrunesHistoryBeforeATime) {
  for (int64_t at : {1'800'000'100, 1'800'000'200, 1'800'000'300}) {
    auto v = sample("p.example");
    v.probed_at = at;
    store_->record_probe(v);
  }
  EXPECT_EQ(store_->prune_history(1'800'000'200), 1u);
  EXPECT_EQ(store_->history_size(), 2u);
}

TEST_P(StoreSuite, UntrustedTextRoundTrips) {
  auto v = sample("odd.example");
  v.detail = std::string("quote ' \" semicolon; DROP TABLE verdicts; -- \xc3\xa9\x01");
  store_->put(v);
  EXPECT_EQ(store_->get("odd.example")->detail, v.detail);
}

// A verdict's probe facts (probe/probe_facts.h: up to 16 KiB of JSON) come
// back with it, replaced with it; its history record keeps none
// (store/probe_record.h), a transport failure's record keeps them.
TEST_P(StoreSuite, FactsTravelWithTheVerdictAndATransportFailuresRecord) {
  auto v = sample("facts.example");
  v.facts = "{\"v\":1,\"hosts\":[]," + std::string(16 * 1024 - 30, 'x') + "\"}";
  store_->write({v}, {history_record(v)});
  EXPECT_EQ(store_->get("facts.example"), v);
  std::vector<std::string> listed;
  store_->for_each([&](const StoredVerdict& s) { listed.push_back(s.facts); });
  EXPECT_EQ(listed, std::vector<std::string>{v.facts});
  store_->for_each_probe(0, [&](const StoredVerdict& s) { EXPECT_EQ(s.facts, ""); });
  EXPECT_EQ(store_->history_size(), 1u);
  v.facts.clear();
  store_->put(v);
  EXPECT_EQ(store_->get("facts.example")->facts, "");

  auto stalled = sample("stalled.example");
  stalled.severity = Severity::unreachable;
  stalled.reason = Reason::timeout;
  stalled.probed_at += 10;
  stalled.facts = "{\"v\":1,\"hosts\":[]}";
  store_->write({}, {history_record(stalled)});
  std::vector<StoredVerdict> history;
  store_->for_each_probe(stalled.probed_at, [&](const StoredVerdict& s) { history.push_back(s); });
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].domain, "stalled.example");
  EXPECT_EQ(history[0].facts, stalled.facts);
}

const std::pair<const char*, BackendConfig> kBackends[] = {
    {"sqlite", [](const std::string& dir) { return store_config("sqlite", dir + "/cache.db"); }},
    {"redis",
     [](const std::string& dir) {
       StoreConfig c = store_config("redis");
       c.redis = "unix:" + RedisServer::shared().socket();
       static int test = 0;
       c.redis_prefix = dir + "-" + std::to_string(++test) + ":";  // each test its own keys
       return c;
     }},
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreSuite, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.first); });

TEST(OpenStore, ExistingAccessNeverCreatesAndNoneOpensNothing) {
  const auto path = std::filesystem::temp_directory_path() / ("mxtls-open-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  const StoreConfig sqlite = store_config("sqlite", path.string());
  EXPECT_FALSE(open_store(sqlite, StoreAccess::existing));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(open_store(sqlite, StoreAccess::create));
  EXPECT_TRUE(open_store(sqlite, StoreAccess::existing));
  EXPECT_FALSE(open_store(store_config("none"), StoreAccess::create));
  EXPECT_THROW(open_store(store_config("bogus"), StoreAccess::create), StoreError);
  std::filesystem::remove(path);
}

TEST(RedisStore, AVerdictExpiresWithItsTtlAndLeavesTheIndex) {
  StoreConfig c = store_config("redis");
  c.redis = "unix:" + RedisServer::shared().socket();
  c.redis_prefix = "ttl-test:";
  const auto store = open_store(c, StoreAccess::create);
  auto v = sample("gone.example");
  v.expires_at = std::time(nullptr) - 1;
  store->put(v);
  store->put(sample("kept.example"));
  EXPECT_FALSE(store->get("gone.example"));
  std::vector<std::string> seen;
  store->for_each([&](const StoredVerdict& x) { seen.push_back(x.domain); });
  EXPECT_EQ(seen, std::vector<std::string>{"kept.example"});
  store->flush();
}

TEST(RedisStore, AuthenticatesWithThePasswordFileAndNeverNamesThePassword) {
  const RedisServer server("s3cret-pw");
  const auto file = std::filesystem::temp_directory_path() / ("mxtls-redis-pw-" + std::to_string(getpid()));
  StoreConfig c = store_config("redis");
  c.redis = "unix:" + server.socket();
  c.redis_password_file = file.string();
  { std::ofstream(file) << "wrong-pw\n"; }
  try {
    open_store(c, StoreAccess::create);
    ADD_FAILURE() << "a wrong password was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("AUTH failed"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-pw"), std::string::npos) << e.what();
  }
  { std::ofstream(file) << "s3cret-pw\n"; }
  const auto store = open_store(c, StoreAccess::create);
  store->put(sample("auth.example"));
  EXPECT_TRUE(store->get("auth.example"));
  std::filesystem::remove(file);
  c.redis_password_file = file.string();
  EXPECT_THROW(check_store_config(c), ConfigError);  // the file is gone
}

// A directory of its own for one test, removed at its end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("mxtls-" + name + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> stored_domains(VerdictStore& store) {
  std::vector<std::string> out;
  store.for_each([&](const StoredVerdict& v) { out.push_back(v.domain); });
  return out;
}

std::vector<std::string> history_domains(VerdictStore& store) {
  std::vector<std::string> out;
  store.for_each_probe(0, [&](const StoredVerdict& v) { out.push_back(v.domain); });
  return out;
}

void overwrite_header(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.write("this is no database", 19);
}

// Polls a second connection until `domain` is stored (the writer works on its own thread).
void wait_until_stored(const std::string& path, const std::string& domain) {
  for (int i = 0; i < 500 && !SqliteStore(path).get(domain); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(SqliteStore(path).get(domain)) << domain;
}

TEST(StoreWriter, KeepsHistoryForItsConfiguredAgeAndWritesWhatIsQueued) {
  const ScratchDir dir("writer");
  const auto config = store_config("sqlite", dir / "cache.db");
  const int64_t now = std::time(nullptr);
  {
    auto old = sample("old.example");
    old.probed_at = now - 40 * 86400;
    SqliteStore(config.path).record_probe(old);
  }
  {
    StoreWriter writer(config, std::chrono::hours(24 * 30));  // prunes at start
    auto fresh = sample("fresh.example");
    fresh.probed_at = now;
    writer.save(fresh, true);
  }  // the destructor writes what is queued
  SqliteStore store(config.path);
  EXPECT_EQ(history_domains(store), (std::vector<std::string>{"fresh.example"}));
  EXPECT_TRUE(store.get("fresh.example"));
}

TEST(SqliteStore, HealthTellsADeletedAReplacedOrACorruptFile) {
  const ScratchDir dir("health");
  SqliteStore store(dir / "cache.db");
  EXPECT_EQ(store.health(), StoreHealth::sound);
  std::filesystem::remove(dir / "cache.db");
  EXPECT_EQ(store.health(), StoreHealth::moved);
  { SqliteStore other(dir / "other.db"); }
  std::filesystem::rename(dir / "other.db", dir / "cache.db");
  EXPECT_EQ(store.health(), StoreHealth::moved);

  SqliteStore damaged(dir / "damaged.db");
  overwrite_header(dir / "damaged.db");
  EXPECT_EQ(damaged.health(), StoreHealth::corrupt);
}

TEST(SqliteStore, ReopenCarriesEverythingIntoANewFileOrTheOneThatReplacedIt) {
  const ScratchDir dir("carry");
  const std::string path = dir / "cache.db";
  SqliteStore store(path);
  store.put(sample("a.example"));
  store.record_probe(sample("a.example"));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);  // rm cache.db*
  ASSERT_EQ(store.health(), StoreHealth::moved);
  const auto carried = store.reopen();
  EXPECT_TRUE(carried.created);
  EXPECT_EQ(carried.verdicts, 1u);
  EXPECT_EQ(carried.probes, 1u);
  EXPECT_EQ(store.health(), StoreHealth::sound);
  store.put(sample("b.example"));
  store.record_probe(sample("b.example"));
  {
    SqliteStore reader(path);
    EXPECT_EQ(stored_domains(reader), (std::vector<std::string>{"a.example", "b.example"}));
  }

  // An operator puts another store in its place: a copy holding a.example's
  // record, and c.example. Ours are added; a record already there is not doubled.
  {
    SqliteStore other(dir / "other.db");
    other.record_probe(sample("a.example"));
    other.put(sample("c.example"));
  }
  std::filesystem::rename(dir / "other.db", path);
  ASSERT_EQ(store.health(), StoreHealth::moved);
  EXPECT_FALSE(store.reopen().created);
  SqliteStore reader(path);
  EXPECT_EQ(stored_domains(reader), (std::vector<std::string>{"a.example", "b.example", "c.example"}));
  EXPECT_EQ(history_domains(reader), (std::vector<std::string>{"a.example", "b.example"}));
}

// The store file deleted under the running daemon: verdicts went on into
// the unlinked file and were gone at the next start.
TEST(StoreWriter, MakesADeletedStoreAnewWithEverythingItHeld) {
  const ScratchDir dir("writer-deleted");
  const auto config = store_config("sqlite", dir / "cache.db");
  {
    StoreWriter writer(config, std::chrono::hours(24));
    writer.save(sample("before.example"), true);
    wait_until_stored(config.path, "before.example");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(config.path + suffix);
    writer.save(sample("after.example"), true);
  }
  SqliteStore store(config.path);
  EXPECT_EQ(stored_domains(store), (std::vector<std::string>{"after.example", "before.example"}));
  EXPECT_EQ(history_domains(store).size(), 2u);
}

TEST(StoreWriter, HoldsWhatItCannotWriteUntilTheStoreCanBeMadeAgain) {
  const ScratchDir dir("writer-held");
  const auto config = store_config("sqlite", dir / "gone/cache.db");
  std::filesystem::create_directories(dir / "gone");
  {
    StoreWriter writer(config, std::chrono::hours(24));
    writer.save(sample("before.example"), true);
    wait_until_stored(config.path, "before.example");
    std::filesystem::remove_all(dir / "gone");  // nowhere to make the file anew
    writer.save(sample("held.example"), true);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the writer tries, fails, holds
    std::filesystem::create_directories(dir / "gone");
  }  // the last try at stop succeeds
  SqliteStore store(config.path);
  EXPECT_EQ(stored_domains(store), (std::vector<std::string>{"before.example", "held.example"}));
}

TEST(StoreWriter, SetsACorruptStoreAsideAndRefillsItFromMemory) {
  const ScratchDir dir("writer-corrupt");
  const auto config = store_config("sqlite", dir / "cache.db");
  {
    StoreWriter* self = nullptr;
    StoreWriter writer(config, std::chrono::hours(24), [&] { self->restore({sample("in-memory.example")}); });
    self = &writer;
    writer.save(sample("before.example"), true);
    wait_until_stored(config.path, "before.example");
    overwrite_header(config.path);
    writer.save(sample("after.example"), true);
  }
  SqliteStore store(config.path);
  EXPECT_EQ(stored_domains(store), (std::vector<std::string>{"after.example", "in-memory.example"}));
  std::size_t aside = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(config.path).parent_path()))
    aside += f.path().filename().string().starts_with("cache.db.corrupt-") && !f.path().string().ends_with("-wal");
  EXPECT_EQ(aside, 1u);
}

TEST(SqliteStore, SurvivesReopen) {
  const auto path = std::filesystem::temp_directory_path() / ("mxtls-reopen-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  { SqliteStore(path.string()).put(sample("kept.example")); }
  EXPECT_EQ(SqliteStore(path.string()).get("kept.example"), sample("kept.example"));
  std::filesystem::remove(path);
}

// A store written before verdicts and history records kept their facts (no
// facts columns) opens, keeps what it holds (read with no facts) and takes
// facts from then on.
TEST(SqliteStore, AStoreFromBeforeFactsGetsTheColumn) {
  const auto path = std::filesystem::temp_directory_path() / ("mxtls-old-schema-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE verdicts (domain TEXT PRIMARY KEY, reason TEXT NOT NULL, severity TEXT NOT NULL,"
                         " outcome TEXT NOT NULL, level TEXT NOT NULL, mx TEXT NOT NULL, tls TEXT NOT NULL, detail TEXT NOT NULL,"
                         " probed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
                         "INSERT INTO verdicts VALUES ('old.example', 'cert_expired', 'incompatible', 'deferred', 'secure',"
                         " 'mx.old.example[192.0.2.1]:25', 'TLSv1.2', 'expired', 1800000000, 1800021600);"
                         "CREATE TABLE probes (id INTEGER PRIMARY KEY, domain TEXT NOT NULL, reason TEXT NOT NULL,"
                         " severity TEXT NOT NULL, outcome TEXT NOT NULL, level TEXT NOT NULL, mx TEXT NOT NULL,"
                         " tls TEXT NOT NULL, detail TEXT NOT NULL, probed_at INTEGER NOT NULL);"
                         "INSERT INTO probes VALUES (1, 'old.example', 'timeout', 'unreachable', 'deferred', 'secure',"
                         " 'mx.old.example[192.0.2.1]:25', '', 'stalled', 1800000000);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    SqliteStore store(path.string());
    const auto old = store.get("old.example");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->reason, Reason::cert_expired);
    EXPECT_EQ(old->facts, "");
    std::vector<StoredVerdict> history;
    store.for_each_probe(0, [&](const StoredVerdict& s) { history.push_back(s); });
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].detail, "stalled");
    EXPECT_EQ(history[0].facts, "");
    auto v = sample("new.example");
    v.facts = "{\"v\":1}";
    store.put(v);
    v.severity = Severity::unreachable;
    store.record_probe(v);
  }
  SqliteStore reopened(path.string());
  EXPECT_EQ(reopened.get("new.example")->facts, "{\"v\":1}");
  std::vector<std::string> facts;
  reopened.for_each_probe(0, [&](const StoredVerdict& s) { facts.push_back(s.facts); });
  EXPECT_EQ(facts, (std::vector<std::string>{"", "{\"v\":1}"}));
  std::filesystem::remove(path);
}

// A child writes verdicts as fast as it can and reports each one put()
// returned for; it is SIGKILLed mid-stream. Every reported verdict must be
// there when the store is opened again.
TEST(SqliteStore, KeepsEveryStoredVerdictAfterSigkill) {
  const auto path = std::filesystem::temp_directory_path() / ("mxtls-kill-" + std::to_string(getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    SqliteStore store(path.string());
    for (int i = 0;; ++i) {
      store.put(sample("d" + std::to_string(i) + ".example"));
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(1);
    }
  }
  close(fds[1]);
  int last = -1, i;
  while (last < 200 && read(fds[0], &i, sizeof i) == sizeof i) last = i;
  kill(child, SIGKILL);
  while (read(fds[0], &i, sizeof i) == sizeof i) last = i;  // acknowledgements already in the pipe
  close(fds[0]);
  waitpid(child, nullptr, 0);
  ASSERT_GE(last, 200);
  SqliteStore reopened(path.string());
  for (int k = 0; k <= last; ++k) ASSERT_TRUE(reopened.get("d" + std::to_string(k) + ".example")) << k;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace mxtls
