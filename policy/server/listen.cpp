#include "server/listen.h"

#include <filesystem>

#include "log/logger.h"
#include "util/split.h"

namespace mxtls {
namespace {

template <typename Acceptor, typename Handler>
asio::awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, Handler handler, ConnectionBudget& budget,
                                  std::string where) {
  while (true) {
    boost::system::error_code ec;
    auto socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::warning(where + ": accept: " + ec.message());
      continue;
    }
    if (budget.active >= budget.limit) {
      log::warning(where + ": " + std::to_string(budget.active) + " connections open, limit reached: closing a new one");
      continue;  // the socket closes as it goes out of scope
    }
    ++budget.active;
    asio::co_spawn(acceptor->get_executor(), handler(std::move(socket)), [&budget](std::exception_ptr) { --budget.active; });
  }
}

}  // namespace

std::vector<SocketAddress> parse_listen_specs(const std::string& list, const std::string& key) {
  std::vector<SocketAddress> specs;
  for (const auto& item : split_list(list)) specs.push_back(parse_socket_address(item, key));
  return specs;
}

void start_listeners(asio::io_context& io, const std::vector<SocketAddress>& specs, const SocketAccess& access,
                     ConnectionBudget& budget, const ConnectionHandlers& handlers, const std::string& service) {
  for (const auto& s : specs) {
    const std::string where = service + " " + s.text;
    try {
      if (s.unix_socket) {
        std::error_code fs_ec;
        if (std::filesystem::is_socket(s.path, fs_ec)) std::filesystem::remove(s.path, fs_ec);
        auto acceptor = std::make_shared<local_stream::acceptor>(io, local_stream::endpoint(s.path));
        apply_socket_access(s.path, access);
        asio::co_spawn(io, accept_loop(acceptor, handlers.on_unix, budget, where), asio::detached);
      } else {
        auto acceptor = std::make_shared<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address(s.address), s.port));
        asio::co_spawn(io, accept_loop(acceptor, handlers.on_tcp, budget, where), asio::detached);
      }
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(where + ": cannot listen: " + e.code().message());
    }
    log::info(service + ": listening on " + s.text);
  }
}

}  // namespace mxtls
