#include "server/listen.h"

#include <charconv>
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

std::vector<ListenSpec> parse_listen_specs(const std::string& list, const std::string& key) {
  std::vector<ListenSpec> specs;
  for (const auto& item : split_list(list)) {
    ListenSpec s;
    s.text = item;
    if (item.starts_with("unix:") && item.size() > 6 && item[5] == '/') {
      s.unix_socket = true;
      s.path = item.substr(5);
    } else if (item.starts_with("inet:")) {
      const auto colon = item.rfind(':');
      int port = 0;
      const auto r = std::from_chars(item.data() + colon + 1, item.data() + item.size(), port);
      if (colon <= 5 || r.ec != std::errc() || r.ptr != item.data() + item.size() || port < 1 || port > 65535)
        throw ConfigError(key + ": '" + item + "' is not inet:ADDRESS:PORT");
      s.address = item.substr(5, colon - 5);
      if (s.address.size() > 2 && s.address.front() == '[' && s.address.back() == ']') s.address = s.address.substr(1, s.address.size() - 2);
      s.port = static_cast<unsigned short>(port);
      boost::system::error_code ec;
      asio::ip::make_address(s.address, ec);
      if (ec) throw ConfigError(key + ": '" + s.address + "' is not an IP address");
    } else {
      throw ConfigError(key + ": '" + item + "' is neither unix:/path nor inet:ADDRESS:PORT");
    }
    specs.push_back(std::move(s));
  }
  return specs;
}

void start_listeners(asio::io_context& io, const std::vector<ListenSpec>& specs, const SocketPermissions& perms,
                     ConnectionBudget& budget, const ConnectionHandlers& handlers, const std::string& service) {
  for (const auto& s : specs) {
    const std::string where = service + " " + s.text;
    try {
      if (s.unix_socket) {
        std::error_code fs_ec;
        if (std::filesystem::is_socket(s.path, fs_ec)) std::filesystem::remove(s.path, fs_ec);
        auto acceptor = std::make_shared<local_stream::acceptor>(io, local_stream::endpoint(s.path));
        apply_socket_permissions(s.path, perms, "policy.");
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
