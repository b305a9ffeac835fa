// Tasks from one thread to another thread's io_context without a lock the
// two threads share: a bounded single-producer single-consumer ring and an
// eventfd the consumer's io_context waits on.
// Why not asio::post: it takes the target scheduler's mutex and, to wake a
// thread blocked in epoll, makes a syscall while holding it. The probe
// thread runs at nice 10; preempted inside that mutex, it kept the
// answering thread waiting for milliseconds (perf trace: up to 7.5 ms per
// wait, 17 waits in 25 s of probing).
// One producer thread and one consumer thread (the io_context's) per
// Handoff. try_send() fails on a full ring; the caller then chooses (wait,
// or asio::post). Tasks run in the order sent.
#pragma once
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "util/asio.h"

namespace mxtls {

class Handoff {
 public:
  using Task = std::function<void()>;
  // Throws std::system_error when no eventfd can be made.
  Handoff(asio::io_context& consumer, std::size_t capacity);
  ~Handoff();  // tasks never run are dropped
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // From the producer thread: false (the task kept by the caller) when full.
  bool try_send(Task& task);

 private:
  void wait_for_tasks();
  void run_tasks();

  boost::lockfree::spsc_queue<Task*> ring_;
  // Set by the producer when it wakes the consumer, cleared by the consumer
  // before it drains the ring: one eventfd write per batch, not per task.
  std::atomic<bool> woken_{false};
  int eventfd_;
  asio::posix::stream_descriptor wakeup_;  // the eventfd, on the consumer's io_context
};

}  // namespace mxtls
