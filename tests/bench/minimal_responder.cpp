// Benchmark tool (on demand): the ceiling for a policy server on this
// machine. Same runtime shape as mxtls-policyd (one Asio thread, one
// coroutine per connection), but it only finds the empty line that ends a
// request and answers "action=DUNNO".
//   usage: mxtls-bench-minimal-responder PORT|unix:PATH
#include <cstdlib>
#include <cstdio>
#include <string>
#include <type_traits>

#include "util/asio.h"

using namespace mxtls;

template <typename Socket>
asio::awaitable<void> serve(Socket socket) {
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

template <typename Acceptor>
asio::awaitable<void> accept_all(Acceptor& acceptor) {
  while (true) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    if constexpr (std::is_same_v<Acceptor, tcp::acceptor>) socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  asio::io_context io(1);
  const std::string where = argc > 1 ? argv[1] : "10041";
  if (where.rfind("unix:", 0) == 0) {  // the same transport as a daemon on a unix socket
    const std::string path = where.substr(5);
    std::remove(path.c_str());
    asio::local::stream_protocol::acceptor acceptor(io, asio::local::stream_protocol::endpoint(path));
    asio::co_spawn(io, accept_all(acceptor), asio::detached);
    io.run();
  } else {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(where.c_str()))));
    asio::co_spawn(io, accept_all(acceptor), asio::detached);
    io.run();
  }
}
