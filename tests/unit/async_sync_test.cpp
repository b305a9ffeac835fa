// util/async_sync: a coroutine that throws inside a WaitGroup (a probe step
// of the prober, a destination of `mxtls probe`) becomes a value for its
// caller; io_context::run() goes on serving every other coroutine.
#include <gtest/gtest.h>

#include <stdexcept>

#include "util/async_sync.h"

namespace mxtls {
namespace {

asio::awaitable<void> failing_step() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("step failed");
}

asio::awaitable<void> slow_step(asio::io_context& io, bool& finished) {
  asio::steady_timer timer(io, std::chrono::milliseconds(20));
  co_await timer.async_wait(asio::use_awaitable);
  finished = true;
}

asio::awaitable<void> probe_like(asio::io_context& io, std::vector<std::string>& errors, bool& sibling_finished,
                                 bool& joined) {
  WaitGroup steps(io.get_executor());
  steps.spawn(failing_step(), [&](const std::string& e) { errors.push_back(e); });
  steps.spawn(slow_step(io, sibling_finished), [&](const std::string& e) { errors.push_back(e); });
  co_await steps.wait();
  joined = true;
}

TEST(WaitGroup, AThrowingMemberIsReportedAsAValueAndTheOthersFinish) {
  asio::io_context io;
  std::vector<std::string> errors;
  bool sibling_finished = false, joined = false, unrelated_ran = false;
  asio::co_spawn(io, probe_like(io, errors, sibling_finished, joined), asio::detached);
  asio::steady_timer unrelated(io, std::chrono::milliseconds(40));
  unrelated.async_wait([&](const boost::system::error_code&) { unrelated_ran = true; });
  EXPECT_NO_THROW(io.run());
  EXPECT_EQ(errors, std::vector<std::string>{"step failed"});
  EXPECT_TRUE(sibling_finished);
  EXPECT_TRUE(joined);
  EXPECT_TRUE(unrelated_ran);
}

}  // namespace
}  // namespace mxtls
