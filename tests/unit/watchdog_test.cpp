// util/watchdog: a step that outlives its budget has its socket cancelled;
// steps that end in time never do, however many follow one another, and a
// later, shorter budget is still kept.
#include <gtest/gtest.h>

#include "util/watchdog.h"

namespace mxtls {
namespace {

using namespace std::chrono_literals;

struct SocketPair {
  asio::io_context io;
  asio::local::stream_protocol::socket a{io}, b{io};
  SocketPair() { asio::local::connect_pair(a, b); }
};

// A read on `a` that nothing answers, watched with `budget`: did it time out?
bool read_times_out(SocketPair& s, Watchdog& watchdog, std::chrono::milliseconds budget) {
  char byte;
  bool aborted = false;
  watchdog.arm(budget);
  s.a.async_read_some(asio::buffer(&byte, 1), [&](const boost::system::error_code& ec, std::size_t) {
    watchdog.disarm();
    aborted = ec == asio::error::operation_aborted;
  });
  s.io.restart();
  s.io.run_for(2s);
  return aborted && watchdog.fired();
}

TEST(Watchdog, AStepPastItsBudgetIsCancelled) {
  SocketPair s;
  auto watchdog = Watchdog::create(s.a, Watchdog::clock::time_point::max());
  EXPECT_TRUE(read_times_out(s, *watchdog, 50ms));
}

TEST(Watchdog, StepsThatEndInTimeNeverFireAndAShorterBudgetLaterIsKept) {
  SocketPair s;
  auto watchdog = Watchdog::create(s.a, Watchdog::clock::time_point::max());
  // Many short steps under a long budget, each ended in time.
  for (int i = 0; i < 1000; ++i) {
    watchdog->arm(10s);
    watchdog->disarm();
  }
  s.io.run_for(50ms);
  EXPECT_FALSE(watchdog->fired());
  // The timer waits for the 10 s budget; a 50 ms one must still be kept.
  EXPECT_TRUE(read_times_out(s, *watchdog, 50ms));
}

// What a composed operation (a TLS read) does when the deadline passes
// between two of its own steps: its next read starts after the watchdog
// fired. It must end at once, not wait unwatched for the peer.
TEST(Watchdog, AReadStartedAfterItFiredEndsAtOnce) {
  SocketPair s;
  auto watchdog = Watchdog::create(s.a, Watchdog::clock::time_point::max());
  watchdog->arm(10ms);
  s.io.run_for(100ms);  // nothing pending: the deadline passes between steps
  ASSERT_TRUE(watchdog->fired());
  char byte;
  bool ended = false;
  s.a.async_read_some(asio::buffer(&byte, 1), [&](const boost::system::error_code& ec, std::size_t) { ended = !!ec; });
  s.io.restart();
  s.io.run_for(1s);
  EXPECT_TRUE(ended);
}

TEST(Watchdog, TheHardDeadlineCapsEveryBudget) {
  SocketPair s;
  auto watchdog = Watchdog::create(s.a, Watchdog::clock::now() + 50ms);
  EXPECT_TRUE(read_times_out(s, *watchdog, 10s));
}

}  // namespace
}  // namespace mxtls
