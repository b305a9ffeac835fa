// log/: the file target writes each line whole, at once, in one write(2),
// and a start after a kill ends the one line the kill may have cut.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/logger.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "log/line_sink.h"
#include "log/logger.h"

namespace mxtls {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

log::Options options(const std::string& target, log::Writing writing = log::Writing::in_caller) {
  log::Options o;
  o.target = target;
  o.ident = "mxtls-test";
  o.writing = writing;
  return o;
}

class FileLog : public ::testing::TestWithParam<log::Writing> {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("mxtls-log-test-" + std::to_string(getpid()) + ".log");
    std::filesystem::remove(path_);
  }
  void TearDown() override {
    log::init(options("none"));
    std::filesystem::remove(path_);
  }
  std::filesystem::path path_;
};

TEST_F(FileLog, InTheCallerALineIsInTheFileWhenTheCallReturns) {
  log::init(options("file:" + path_.string()));
  log::info("store: first line");
  EXPECT_NE(read_file(path_).find("mxtls-test["), std::string::npos);
  log::info("store: second line");
  EXPECT_NE(read_file(path_).find("store: second line\n"), std::string::npos);
}

TEST_F(FileLog, ALineIsWrittenAsItIsWithTheProcessId) {
  log::init(options("file:" + path_.string()));
  log::warning("client={} {0} %s 100% }{");
  EXPECT_NE(read_file(path_).find(" mxtls-test[" + std::to_string(getpid()) + "]: client={} {0} %s 100% }{\n"), std::string::npos)
      << read_file(path_);
}

// A child logs lines of many lengths as fast as it can and is SIGKILLed:
// every line in the file is whole, except that the kill may cut the one
// line the kernel was copying across a page (a buffered stream used to
// leave lines cut wherever its buffer ended). The next start ends such a
// fragment, so its own first line is whole.
TEST_P(FileLog, OnlyTheLineBeingWrittenCanBeCutBySigkillAndTheNextStartEndsIt) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    log::init(options("file:" + path_.string(), GetParam()));
    for (int i = 0;; ++i) log::info("line " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i * 37 % 900), 'x') + " end");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::error_code ec;
  while (std::filesystem::file_size(path_, ec) < 200'000 || ec) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the child wrote nothing";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const std::string killed = read_file(path_);
  ASSERT_FALSE(killed.empty());
  const std::size_t fragment_at = killed.back() == '\n' ? killed.size() : killed.rfind('\n') + 1;
  const std::string fragment = killed.substr(fragment_at);
  const std::size_t header = fragment.find("mxtls-test[");
  EXPECT_TRUE(header == std::string::npos || fragment.find("mxtls-test[", header + 1) == std::string::npos)
      << "more than one line cut: " << fragment.substr(0, 120);

  log::init(options("file:" + path_.string(), GetParam()));
  log::info("line after the kill");
  log::flush();
  const std::string text = read_file(path_);
  ASSERT_EQ(text.compare(0, killed.size(), killed), 0) << "the start wrote over what was there";
  const std::regex whole(R"(\S+ mxtls-test\[\d+\]: line (\d+) (x*) end)");
  // A writer thread that fell behind the child's loop says so in a line.
  const std::regex dropped(R"(\S+ mxtls-test\[\d+\]: log: \d+ lines dropped: .*)");
  std::istringstream lines(text.substr(0, fragment_at));
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::smatch m;
    if (GetParam() == log::Writing::writer_thread && std::regex_match(line, dropped)) continue;
    ASSERT_TRUE(std::regex_match(line, m, whole)) << "line " << n << ": " << line.substr(0, 120);
    EXPECT_EQ(m[2].length(), std::stoi(m[1]) * 37 % 900);
  }
  EXPECT_GT(n, 100u);
  const std::string after = text.substr(fragment_at);
  EXPECT_TRUE(std::regex_match(after, std::regex((fragment.empty() ? "" : "[^\n]+\n") + std::string(R"(\S+ mxtls-test\[\d+\]: line after the kill\n)"))))
      << "the line after the kill is not whole: " << after.substr(0, 300);
}

// The cut itself is rare (the kill must land while a line crosses a page),
// so the ending of a fragment is also tried on a file made to end in one.
TEST_F(FileLog, AStartEndsAFragmentLeftInTheFile) {
  std::ofstream(path_, std::ios::binary) << "2026-11-30T18:23:13.444 mxtls-test[1]: whole\n2026-11-30T18:23:13.444 mxtls-test[1]: NOQUE";
  log::init(options("file:" + path_.string()));
  log::info("next");
  const std::string text = read_file(path_);
  EXPECT_TRUE(std::regex_match(text, std::regex(R"(.*: whole\n.*: NOQUE\n\S+ mxtls-test\[\d+\]: next\n)"))) << text;
  log::init(options("file:" + path_.string()));  // a file that ends whole gets nothing
  log::info("again");
  EXPECT_TRUE(std::regex_match(read_file(path_).substr(text.size()), std::regex(R"(\S+ mxtls-test\[\d+\]: again\n)")));
}

// Threads that log at once: every line is whole, none is lost, and each
// thread's lines keep their order.
TEST_P(FileLog, LinesOfConcurrentThreadsNeverInterleave) {
  log::init(options("file:" + path_.string(), GetParam()));
  constexpr int kThreads = 4, kLines = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i)
        log::info("thread " + std::to_string(t) + " line " + std::to_string(i) + " " +
                  std::string(static_cast<std::size_t>((i * 53 + t) % 700), 'y') + " end");
    });
  for (auto& th : threads) th.join();
  log::flush();
  const std::regex whole(R"(\S+ mxtls-test\[\d+\]: thread (\d) line (\d+) (y*) end)");
  std::istringstream lines(read_file(path_));
  std::vector<int> next(kThreads, 0);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, whole)) << "line " << n << ": " << line.substr(0, 120);
    const int t = std::stoi(m[1]), i = std::stoi(m[2]);
    ASSERT_EQ(i, next[t]++) << "thread " << t << "'s lines out of order";
    EXPECT_EQ(m[3].length(), (i * 53 + t) % 700);
  }
  EXPECT_EQ(n, kThreads * kLines);
}


INSTANTIATE_TEST_SUITE_P(Writing, FileLog, ::testing::Values(log::Writing::in_caller, log::Writing::writer_thread),
                         [](const auto& info) { return info.param == log::Writing::in_caller ? "InCaller" : "WriterThread"; });

TEST_F(FileLog, AWriterThreadWritesWhatWasLoggedByFlushAndBeforeTheLogIsReplaced) {
  log::init(options("file:" + path_.string(), log::Writing::writer_thread));
  log::info("first");
  log::flush();
  EXPECT_NE(read_file(path_).find(": first\n"), std::string::npos);
  for (int i = 0; i < 1000; ++i) log::info("line " + std::to_string(i));
  log::init(options("none"));  // the old sink writes its queue as it goes
  const std::string text = read_file(path_);
  EXPECT_NE(text.find(": line 999\n"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1001);
}

// A target that takes nothing until released: a stalled disk or syslog.
class StalledTarget final : public log::LineTarget {
 public:
  explicit StalledTarget(std::string& text) : text(text) {}
  void write(const log::Lines& lines) override {
    std::unique_lock lock(mutex_);
    entered = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released; });
    text += lines.text;
  }
  void wait_until_entered() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return entered; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released = true;
    changed_.notify_all();
  }
  std::string& text;  // outlives the sink, which owns its target

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered = false;
  bool released = false;
};

// Logging never waits on a stalled target; past the bound lines are dropped
// and counted, and the count is written once the target takes lines again.
TEST(LineSink, AStalledTargetCostsLinesNotWaitsAndTheDropsAreCounted) {
  std::string text;
  auto owned = std::make_unique<StalledTarget>(text);
  StalledTarget& target = *owned;
  const std::string line(1000, 'z');
  {
    auto sink = std::make_shared<log::LineSink>(std::move(owned), log::Writing::writer_thread);
    sink->set_pattern("%v");
    spdlog::logger logger("stalled", sink);
    logger.info("first");
    target.wait_until_entered();  // the writer took it and stalls on it
    const std::size_t fit = log::LineSink::kMaxQueuedBytes / (line.size() + 1) + 1;
    for (std::size_t i = 0; i < fit + 250; ++i) logger.info(line);
    target.release();
  }  // the sink writes the rest as it goes
  EXPECT_EQ(text.substr(0, 6), "first\n");
  const std::size_t kept = static_cast<std::size_t>(std::count(text.begin(), text.end(), 'z')) / line.size();
  EXPECT_EQ(kept, log::LineSink::kMaxQueuedBytes / (line.size() + 1) + 1);
  EXPECT_NE(text.find("log: 250 lines dropped: the log target fell 8 MiB behind\n"), std::string::npos) << text.substr(text.size() - 200);
}

}  // namespace
}  // namespace mxtls
