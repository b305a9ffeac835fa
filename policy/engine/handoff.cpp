#include "engine/handoff.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "log/logger.h"

namespace mxtls {
namespace {

int make_eventfd() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

Handoff::Handoff(asio::io_context& consumer, std::size_t capacity)
    : ring_(capacity), eventfd_(make_eventfd()), wakeup_(consumer, eventfd_) {
  wait_for_tasks();
}

Handoff::~Handoff() {
  boost::system::error_code ignored;
  wakeup_.close(ignored);  // the pending wait ends with operation_aborted, touching nothing
  ring_.consume_all([](Task* t) { delete t; });
}

bool Handoff::try_send(Task& task) {
  auto* boxed = new Task(std::move(task));
  if (!ring_.push(boxed)) {
    task = std::move(*boxed);
    delete boxed;
    return false;
  }
  if (!woken_.exchange(true)) {
    const std::uint64_t one = 1;
    // Cannot fail short of a bug: the counter only overflows after 2^64 - 1 writes unread.
    [[maybe_unused]] const auto n = ::write(eventfd_, &one, sizeof one);
  }
  return true;
}

void Handoff::wait_for_tasks() {
  wakeup_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed: the Handoff is gone or going
    run_tasks();
    wait_for_tasks();
  });
}

void Handoff::run_tasks() {
  std::uint64_t count;
  [[maybe_unused]] const auto n = ::read(eventfd_, &count, sizeof count);
  // Before draining: a task sent from now on wakes us again. An exchange
  // (not a store) reads the producer's flag, so every task it pushed before
  // setting it is seen by the drain below.
  woken_.exchange(false);
  ring_.consume_all([](Task* t) {
    const std::unique_ptr<Task> task(t);
    try {
      (*task)();
    } catch (const std::exception& e) {  // a fault of ours; the other tasks still run
      log::error(std::string("handoff: internal error in a task from another thread: ") + e.what());
    }
  });
}

}  // namespace mxtls
