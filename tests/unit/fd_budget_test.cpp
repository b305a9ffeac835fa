// server/fd_budget: the descriptors a configuration may need at worst,
// against the process's limit.
#include <gtest/gtest.h>

#include "server/fd_budget.h"

namespace mxtls {
namespace {

TEST(FdBudget, DefaultsNeedMoreThanTheHistoricalSoftLimit) {
  const Config defaults;
  // 1000 connections (+1 replacing) + 100 probes + 50 x 3 DNS queries + 2
  // listeners + store 6 + log 1 + process 32.
  EXPECT_EQ(worst_case_fds(defaults, 2), 1292u);
  const auto error = fd_budget_error(defaults, 2, 1024);
  for (const char* key : {"policy.max_connections (1000)", "probe.concurrency (100)", "cache.max_parallel",
                          "probe.max_mx_hosts", "1292", "1024", "RLIMIT_NOFILE"})
    EXPECT_NE(error.find(key), std::string::npos) << key << " in: " << error;
  EXPECT_EQ(fd_budget_error(defaults, 2, 1292), "");
  EXPECT_EQ(fd_budget_error(defaults, 2, 65536), "");
}

TEST(FdBudget, GrowsWithWhatTheConfigurationAllows) {
  Config c;
  const auto base = worst_case_fds(c, 1);
  c.policy.max_connections += 10;
  c.probe.concurrency += 5;
  c.cache.max_parallel += 1;
  EXPECT_EQ(worst_case_fds(c, 1), base + 10 + 5 + 3);
  c.store.backend = "none";
  EXPECT_EQ(worst_case_fds(c, 1), base + 10 + 5 + 3 - 6);
}

}  // namespace
}  // namespace mxtls
