// The loop both servers run per connection: read into a buffer, let the
// protocol's handler take complete requests from its front, write each
// reply, close on a protocol violation, on I/O errors, or after idle_timeout
// of silence. The handler is the only protocol-specific part.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "util/asio.h"
#include "util/watchdog.h"

namespace mxtls {

struct HandlerStep {
  enum Kind { need_more, reply, close } kind = need_more;
  std::string text;           // the reply, for `reply`
  std::size_t consumed = 0;   // request bytes to drop from the buffer, for `reply`
};

// `handle(std::string_view buffer) -> asio::awaitable<HandlerStep>` is
// given the unanswered bytes, which stay unchanged while it runs (requests
// may point into them) and only grow between calls until it answers; each
// byte is copied into the buffer once and moved at most once more.
// Returns true when the peer went silent in the middle of a request.
template <typename Socket, typename Handler>
asio::awaitable<bool> serve_requests(Socket& socket, std::chrono::milliseconds idle_timeout, Handler handle) {
  auto watchdog = Watchdog::create(socket, Watchdog::clock::time_point::max());
  std::string buffer;
  std::size_t start = 0;  // bytes before this are answered requests
  char chunk[16384];
  while (true) {
    HandlerStep step = co_await handle(std::string_view(buffer).substr(start));
    if (step.kind == HandlerStep::close) co_return false;
    boost::system::error_code ec;
    if (step.kind == HandlerStep::reply) {
      start += step.consumed;
      watchdog->arm(idle_timeout);
      co_await asio::async_write(socket, asio::buffer(step.text), asio::redirect_error(asio::use_awaitable, ec));
      watchdog->disarm();
      if (ec) co_return false;
      continue;
    }
    buffer.erase(0, std::exchange(start, 0));
    watchdog->arm(idle_timeout);
    const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    watchdog->disarm();
    if (ec) co_return watchdog->fired() && !buffer.empty();
    buffer.append(chunk, n);
  }
}

}  // namespace mxtls
