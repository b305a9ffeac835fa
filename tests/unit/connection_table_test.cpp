// server/connection_table: who gives way when a new connection arrives and
// the budget, for all clients or for one client address, is full.
#include <gtest/gtest.h>

#include <vector>

#include "server/connection_table.h"

namespace mxtls {
namespace {

// A connection as its request loop would hold it, recording its eviction.
struct Held {
  ConnectionSlot slot;
  bool closed = false;
};

std::vector<std::unique_ptr<Held>> open(ConnectionTable& table, const std::string& client, int n) {
  std::vector<std::unique_ptr<Held>> out;
  for (int i = 0; i < n; ++i) {
    auto a = table.admit(client);
    EXPECT_TRUE(a.slot);
    auto h = std::make_unique<Held>();
    h->slot = std::move(*a.slot);
    h->slot.on_evict([p = h.get()] { p->closed = true; });
    out.push_back(std::move(h));
  }
  return out;
}

TEST(ConnectionTable, AdmitsWithinTheBudget) {
  ConnectionTable table({3, 3});
  auto held = open(table, "127.0.0.1", 3);
  EXPECT_EQ(table.size(), 3u);
  for (const auto& h : held) EXPECT_FALSE(h->closed);
  held.pop_back();  // a connection that ends leaves the table
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.admit("127.0.0.1").reached, ConnectionTable::Limit::none);
}

TEST(ConnectionTable, AFullBudgetClosesTheConnectionIdleLongest) {
  ConnectionTable table({3, 10});
  auto held = open(table, "10.0.0.1", 3);
  held[0]->slot.busy();
  held[0]->slot.answered();  // the least idle now
  held[1]->slot.busy();
  held[1]->slot.waiting();  // read part of a request: still the idle longest
  auto a = table.admit("10.0.0.2");
  ASSERT_TRUE(a.slot);
  EXPECT_EQ(a.reached, ConnectionTable::Limit::total);
  EXPECT_FALSE(held[0]->closed);
  EXPECT_TRUE(held[1]->closed);
  EXPECT_FALSE(held[2]->closed);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.connections_of("10.0.0.1"), 2u);
  held[1].reset();  // its loop ends after the close: nothing left to remove
  EXPECT_EQ(table.size(), 3u);
}

TEST(ConnectionTable, AConnectionBeingAnsweredNeverGivesWay) {
  ConnectionTable table({2, 10});
  auto held = open(table, "10.0.0.1", 2);
  held[0]->slot.busy();
  held[1]->slot.busy();
  const auto refused = table.admit("10.0.0.2");
  EXPECT_FALSE(refused.slot);
  EXPECT_EQ(refused.reached, ConnectionTable::Limit::total);
  EXPECT_FALSE(held[0]->closed || held[1]->closed);
  held[1]->slot.answered();
  EXPECT_TRUE(table.admit("10.0.0.2").slot);
  EXPECT_TRUE(held[1]->closed);
}

TEST(ConnectionTable, AClientAtItsLimitReplacesItsOwnConnection) {
  ConnectionTable table({100, 2});
  auto others = open(table, "10.0.0.3", 1);
  auto own = open(table, "10.0.0.2", 2);
  auto a = table.admit("10.0.0.2");
  ASSERT_TRUE(a.slot);
  EXPECT_EQ(a.reached, ConnectionTable::Limit::per_client);
  EXPECT_FALSE(others[0]->closed);  // idle longer, but another client's
  EXPECT_TRUE(own[0]->closed);
  EXPECT_FALSE(own[1]->closed);
  EXPECT_EQ(table.connections_of("10.0.0.2"), 2u);
}

TEST(ConnectionTable, UnixSocketClientsShareOnlyTheTotal) {
  ConnectionTable table({3, 1});
  auto held = open(table, "", 3);
  EXPECT_EQ(table.connections_of(""), 0u);
  for (const auto& h : held) EXPECT_FALSE(h->closed);
  EXPECT_EQ(table.admit("").reached, ConnectionTable::Limit::total);
}

TEST(ConnectionTable, AConnectionWithoutACloserYetIsNotChosen) {
  ConnectionTable table({1, 10});
  auto first = table.admit("10.0.0.1");
  ASSERT_TRUE(first.slot);
  EXPECT_FALSE(table.admit("10.0.0.2").slot);
}

}  // namespace
}  // namespace mxtls
