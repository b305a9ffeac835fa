// engine/handoff: tasks sent from another thread run on the consumer's
// io_context thread, all of them, in the order sent; a full ring refuses a
// task and leaves it with the sender; tasks never run are freed.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "engine/handoff.h"

namespace mxtls {
namespace {

TEST(Handoff, TasksFromAnotherThreadRunOnTheConsumerInOrder) {
  asio::io_context consumer;
  Handoff handoff(consumer, 16);  // small: the sender finds it full again and again
  constexpr int kTasks = 50'000;
  std::vector<int> seen;
  std::thread::id ran_on;
  std::atomic<bool> sent_all{false};
  std::thread producer([&] {
    for (int i = 0; i < kTasks; ++i) {
      Handoff::Task task = [&seen, &ran_on, i] {
        seen.push_back(i);
        ran_on = std::this_thread::get_id();
      };
      while (!handoff.try_send(task)) {
        ASSERT_TRUE(task) << "a refused task must stay with its sender";
        std::this_thread::yield();
      }
    }
    sent_all = true;
  });
  auto guard = asio::make_work_guard(consumer);
  std::thread stopper([&] {
    producer.join();
    // The last task sent stops the consumer once everything before it ran.
    Handoff::Task stop = [&consumer] { consumer.stop(); };
    while (!handoff.try_send(stop)) std::this_thread::yield();
  });
  consumer.run();
  stopper.join();
  ASSERT_TRUE(sent_all);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(Handoff, AFullRingRefusesAndKeepsTheTask) {
  asio::io_context consumer;  // never run: nothing drains the ring
  Handoff handoff(consumer, 2);
  int ran = 0;
  Handoff::Task a = [&ran] { ++ran; }, b = a, c = a;
  EXPECT_TRUE(handoff.try_send(a));
  EXPECT_TRUE(handoff.try_send(b));
  EXPECT_FALSE(handoff.try_send(c));
  ASSERT_TRUE(c);
  c();
  EXPECT_EQ(ran, 1);
  consumer.run_for(std::chrono::milliseconds(100));  // the two sent run now
  EXPECT_EQ(ran, 3);
}

TEST(Handoff, TasksNeverRunAreFreedWithIt) {
  auto owned = std::make_shared<int>(7);
  {
    asio::io_context consumer;
    Handoff handoff(consumer, 8);
    Handoff::Task task = [owned] {};
    ASSERT_TRUE(handoff.try_send(task));
    EXPECT_EQ(owned.use_count(), 2);
  }
  EXPECT_EQ(owned.use_count(), 1);
}

}  // namespace
}  // namespace mxtls
