// LocalProblemDetector: our outage told from the destinations'.
#include "engine/local_problem.h"

#include <gtest/gtest.h>

namespace mxtls {
namespace {

using Clock = LocalProblemDetector::Clock;
using Change = LocalProblemDetector::Change;

TEST(LocalProblem, ManyHostsFailingAtOnceIsSuspectedOnceThenEndsAtTheFirstServerReached) {
  LocalProblemDetector d;
  const auto t = Clock::now();
  std::vector<Change> changes;
  for (int i = 0; i < 12; ++i)
    changes.push_back(d.note("mx" + std::to_string(i) + ".example", true, Reason::connect_failed, t + std::chrono::seconds(i)));
  EXPECT_EQ(std::count(changes.begin(), changes.end(), Change::started), 1);
  EXPECT_EQ(changes[8], Change::none);   // 9 probes: too few to say
  EXPECT_EQ(changes[9], Change::started);  // the 10th
  EXPECT_TRUE(d.suspected());
  EXPECT_EQ(d.summary(), "12 of the last 12 probes (12 MX hosts) reached no server: connect_failed 12");
  EXPECT_EQ(d.note("mx.up.example", false, Reason::ok, t + std::chrono::seconds(20)), Change::ended);
  EXPECT_FALSE(d.suspected());
}

TEST(LocalProblem, OneDeadHostOrAFewFailuresAmongSuccessesIsNotOurs) {
  LocalProblemDetector d;
  const auto t = Clock::now();
  for (int i = 0; i < 20; ++i)  // one MX host down, for many domains
    EXPECT_EQ(d.note("mx.down.example", true, Reason::connect_failed, t), Change::none);
  LocalProblemDetector mixed;
  for (int i = 0; i < 20; ++i)  // every third probe reaches its server
    EXPECT_EQ(mixed.note("mx" + std::to_string(i), i % 3 != 0, Reason::dns_failure, t), Change::none);
  EXPECT_FALSE(mixed.suspected());
}

TEST(LocalProblem, FailuresSpreadOverLongerThanTheWindowAgeAreNotCountedTogether) {
  LocalProblemDetector d;
  const auto t = Clock::now();
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(d.note("mx" + std::to_string(i), true, Reason::timeout, t + std::chrono::minutes(i)), Change::none);
  EXPECT_FALSE(d.suspected());
}

}  // namespace
}  // namespace mxtls
