// store/: the suite every VerdictStore backend must pass, each opened by
// open_store() from its [store] configuration (a backend joins by adding a
// line to kBackends), plus SQLite's persistence across reopen and across a
// process killed in the middle of writing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "engine/store_writer.h"
#include "store/open_store.h"
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

TEST(StoreWriter, KeepsHistoryForItsConfiguredAgeAndWritesWhatIsQueued) {
  const auto dir = std::filesystem::temp_directory_path() / ("mxtls-writer-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    SqliteStore store((dir / "cache.db").string());
    const int64_t now = std::time(nullptr);
    auto old = sample("old.example");
    old.probed_at = now - 40 * 86400;
    store.record_probe(old);
    {
      StoreWriter writer(&store, std::chrono::hours(24 * 30));  // prunes at start
      auto fresh = sample("fresh.example");
      fresh.probed_at = now;
      writer.save(fresh, true);
    }  // the destructor writes what is queued
    std::vector<std::string> history;
    store.for_each_probe(0, [&](const StoredVerdict& v) { history.push_back(v.domain); });
    EXPECT_EQ(history, (std::vector<std::string>{"fresh.example"}));
    EXPECT_TRUE(store.get("fresh.example"));
  }
  std::filesystem::remove_all(dir);
}

TEST(SqliteStore, SurvivesReopen) {
  const auto path = std::filesystem::temp_directory_path() / ("mxtls-reopen-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  { SqliteStore(path.string()).put(sample("kept.example")); }
  EXPECT_EQ(SqliteStore(path.string()).get("kept.example"), sample("kept.example"));
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
