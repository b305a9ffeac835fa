// log/throttle: one line per interval for a repeating event, with a count.
#include <gtest/gtest.h>

#include "log/throttle.h"

namespace mxtls::log {
namespace {

TEST(Throttle, TellsTheFirstAtOnceThenOncePerIntervalWithACount) {
  using namespace std::chrono_literals;
  Throttle throttle(10s);
  const Throttle::clock::time_point t0{};
  EXPECT_EQ(throttle.note(t0 + 1s), 1u);
  for (int i = 0; i < 999; ++i) EXPECT_EQ(throttle.note(t0 + 2s), 0u);
  EXPECT_EQ(throttle.note(t0 + 11s), 1000u);
  EXPECT_EQ(throttle.note(t0 + 12s), 0u);
  EXPECT_EQ(throttle.note(t0 + 30s), 2u);
}

}  // namespace
}  // namespace mxtls::log
