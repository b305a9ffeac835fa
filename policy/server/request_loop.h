// The loop both servers run per connection: read into a buffer, let the
// protocol's handler take complete requests from its front, write each
// reply, close on a protocol violation, on I/O errors, when the first
// request is not complete within first_request_timeout, after idle_timeout
// of silence, or when the connection table makes it give way. The handler
// is the only protocol-specific part.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "log/logger.h"
#include "log/throttle.h"
#include "server/connection_table.h"
#include "util/asio.h"
#include "util/watchdog.h"

namespace mxtls {

struct HandlerStep {
  enum Kind { need_more, reply, close } kind = need_more;
  std::string text;           // the reply, for `reply`
  std::size_t consumed = 0;   // request bytes to drop from the buffer, for `reply`
};

struct RequestTimeouts {
  std::chrono::milliseconds first_request;  // from accept to the first complete request
  std::chrono::milliseconds idle;           // silence at any other time
};

// How a connection ended, for the log: only the timeouts are worth a line.
enum class ConnectionEnd { closed, first_request_timeout, idle_timeout_mid_request };

// One line per interval for connections closed by a timeout, with a count:
// a client holding hundreds of silent connections makes one line, not hundreds.
class ConnectionEndLog {
 public:
  ConnectionEndLog(std::string service, RequestTimeouts timeouts)
      : service_(std::move(service)), timeouts_(timeouts) {}

  void note(ConnectionEnd end) {
    if (end == ConnectionEnd::closed) return;
    const bool first = end == ConnectionEnd::first_request_timeout;
    const auto n = (first ? first_ : mid_request_).note();
    if (n == 0) return;
    const auto after = (first ? timeouts_.first_request : timeouts_.idle).count();
    log::warning(service_ + ": closed=" + (first ? "first_request_timeout" : "idle_timeout") +
                 ", after=" + (after % 1000 ? std::to_string(after) + "ms" : std::to_string(after / 1000) + "s") +
                 (first ? "" : ", request=incomplete") + ", connections=" + std::to_string(n));
  }

 private:
  std::string service_;
  RequestTimeouts timeouts_;
  log::Throttle first_{std::chrono::seconds(10)};
  log::Throttle mid_request_{std::chrono::seconds(10)};
};

// `handle(std::string_view buffer) -> asio::awaitable<HandlerStep>` is
// given the unanswered bytes, which stay unchanged while it runs (requests
// may point into them) and only grow between calls until it answers; each
// byte is copied into the buffer once and moved at most once more.
template <typename Socket, typename Handler>
asio::awaitable<ConnectionEnd> serve_requests(Socket& socket, ConnectionSlot slot, RequestTimeouts timeouts,
                                              Handler handle) {
  using clock = Watchdog::clock;
  auto watchdog = Watchdog::create(socket, clock::time_point::max());
  slot.on_evict([&socket] {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  const auto first_deadline = clock::now() + timeouts.first_request;
  bool answered = false;  // a first complete request was read
  std::string buffer;
  std::size_t start = 0;  // bytes before this are answered requests
  char chunk[16384];
  while (true) {
    slot.busy();  // the handler may wait for a verdict: never closed meanwhile
    HandlerStep step = co_await handle(std::string_view(buffer).substr(start));
    if (step.kind == HandlerStep::close) co_return ConnectionEnd::closed;
    boost::system::error_code ec;
    if (step.kind == HandlerStep::reply) {
      answered = true;
      start += step.consumed;
      watchdog->arm(timeouts.idle);
      co_await asio::async_write(socket, asio::buffer(step.text), asio::redirect_error(asio::use_awaitable, ec));
      watchdog->disarm();
      slot.answered();
      if (ec) co_return ConnectionEnd::closed;
      continue;
    }
    slot.waiting();
    buffer.erase(0, std::exchange(start, 0));
    const auto to_first_deadline = std::chrono::ceil<std::chrono::milliseconds>(first_deadline - clock::now());
    const bool first_deadline_rules = !answered && to_first_deadline < timeouts.idle;
    watchdog->arm(first_deadline_rules ? std::max(to_first_deadline, std::chrono::milliseconds(0)) : timeouts.idle);
    const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    watchdog->disarm();
    if (ec) {
      if (!watchdog->fired()) co_return ConnectionEnd::closed;
      if (first_deadline_rules) co_return ConnectionEnd::first_request_timeout;
      co_return buffer.empty() ? ConnectionEnd::closed : ConnectionEnd::idle_timeout_mid_request;
    }
    buffer.append(chunk, n);
  }
}

}  // namespace mxtls
