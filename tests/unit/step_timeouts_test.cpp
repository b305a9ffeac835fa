// probe/step_timeouts: a probe waits as long as the MTA would, step by
// step, unless [probe] sets a step's timeout.
#include "probe/step_timeouts.h"

#include <gtest/gtest.h>

namespace mxtls {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(StepTimeouts, FollowTheMtaUnlessSet) {
  MtaConnection postfix;  // Postfix's defaults
  const auto t = step_timeouts(parse_config("", "test.conf").probe, postfix);
  EXPECT_EQ(t.connect, seconds(30));
  EXPECT_EQ(t.greeting, seconds(300));
  EXPECT_EQ(t.ehlo, seconds(300));
  EXPECT_EQ(t.starttls, seconds(300));
  EXPECT_EQ(t.handshake, seconds(300));
  const auto c = parse_config("[probe]\ngreeting_timeout = 20s\ncommand_timeout =\nhandshake_timeout = 1500ms\n", "test.conf");
  EXPECT_FALSE(c.probe.command_timeout);
  const auto set = step_timeouts(c.probe, postfix);
  EXPECT_EQ(set.greeting, seconds(20));
  EXPECT_EQ(set.ehlo, seconds(300));
  EXPECT_EQ(set.handshake, milliseconds(1500));
}

}  // namespace
}  // namespace mxtls
