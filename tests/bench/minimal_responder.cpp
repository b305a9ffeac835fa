// Benchmark tool (on demand): the ceiling for a policy server on this
// machine. Same runtime shape as mxtls-policyd (one Asio thread, one
// coroutine per connection), but it only finds the empty line that ends a
// request and answers "action=DUNNO".
//   usage: mxtls-bench-minimal-responder PORT
#include <cstdlib>
#include <string>

#include "util/asio.h"

using namespace mxtls;

asio::awaitable<void> serve(tcp::socket socket) {
  static const std::string kReply = "action=DUNNO\n\n";
  std::string buffer;
  char chunk[16384];
  boost::system::error_code ec;
  while (true) {
    const auto end = buffer.find("\n\n");
    if (end != std::string::npos) {
      buffer.erase(0, end + 2);
      co_await asio::async_write(socket, asio::buffer(kReply), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      continue;
    }
    const auto n = co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    buffer.append(chunk, n);
  }
}

asio::awaitable<void> accept_all(tcp::acceptor& acceptor) {
  while (true) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  asio::io_context io(1);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 10041)));
  asio::co_spawn(io, accept_all(acceptor), asio::detached);
  io.run();
}
