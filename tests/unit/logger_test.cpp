// log/: the file target writes each line whole, at once, in one write(2).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "log/logger.h"

namespace mxtls {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

log::Options options(const std::string& target) {
  log::Options o;
  o.target = target;
  o.ident = "mxtls-test";
  return o;
}

class FileLog : public ::testing::Test {
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

TEST_F(FileLog, ALineIsInTheFileWhenTheCallReturns) {
  log::init(options("file:" + path_.string()));
  log::info("store: first line");
  EXPECT_NE(read_file(path_).find("mxtls-test["), std::string::npos);
  log::info("store: second line");
  EXPECT_NE(read_file(path_).find("store: second line\n"), std::string::npos);
}

// A child logs lines of many lengths as fast as it can and is SIGKILLed:
// every line in the file must be whole (a buffered stream used to leave the
// last one cut wherever its buffer ended).
TEST_F(FileLog, ALineIsNeverTornBySigkill) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    log::init(options("file:" + path_.string()));
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
  const std::string text = read_file(path_);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the last line is torn: ..." << text.substr(text.size() - std::min<std::size_t>(80, text.size()));
  const std::regex whole(R"(\S+ mxtls-test\[\d+\]: line (\d+) (x*) end)");
  std::istringstream lines(text);
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, whole)) << "line " << n << ": " << line.substr(0, 120);
    EXPECT_EQ(m[2].length(), std::stoi(m[1]) * 37 % 900);
  }
  EXPECT_GT(n, 100u);
}

// Threads that log at once: every line is whole, none is lost, and each
// thread's lines keep their order.
TEST_F(FileLog, LinesOfConcurrentThreadsNeverInterleave) {
  log::init(options("file:" + path_.string()));
  constexpr int kThreads = 4, kLines = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i)
        log::info("thread " + std::to_string(t) + " line " + std::to_string(i) + " " +
                  std::string(static_cast<std::size_t>((i * 53 + t) % 700), 'y') + " end");
    });
  for (auto& th : threads) th.join();
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

}  // namespace
}  // namespace mxtls
