#include "server/listen.h"

#include <algorithm>
#include <filesystem>

#include "log/logger.h"
#include "log/throttle.h"
#include "util/split.h"

namespace mxtls {
namespace {

using std::chrono::milliseconds;

// accept() failing for want of a descriptor or of kernel memory: the
// pending connection stays queued and the listener stays readable, so
// retrying at once would spin. Pause, doubling up to a second.
bool out_of_resources(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == boost::system::errc::no_buffer_space || ec == boost::system::errc::not_enough_memory;
}
constexpr milliseconds kFirstPause{50};
constexpr milliseconds kLongestPause{1000};
constexpr std::chrono::seconds kLogInterval{10};

std::string client_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  return ec ? std::string("unknown") : peer.address().to_string();
}
std::string client_of(const local_stream::socket&) { return {}; }

const char* limit_key(ConnectionTable::Limit limit) {
  return limit == ConnectionTable::Limit::per_client ? "max_connections_per_client" : "max_connections";
}

template <typename Acceptor, typename Handler>
asio::awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, Handler handler, ConnectionTable& connections,
                                  std::string service, std::string listener) {
  asio::steady_timer pause_timer(acceptor->get_executor());
  milliseconds pause{0};
  std::uint64_t failed = 0;  // since accept last worked
  log::Throttle failures(kLogInterval), resumed(kLogInterval), made_room(kLogInterval), refused(kLogInterval);
  while (true) {
    boost::system::error_code ec;
    auto socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      ++failed;
      pause = out_of_resources(ec) ? std::clamp(pause * 2, kFirstPause, kLongestPause) : milliseconds(0);
      if (const auto n = failures.note())
        log::warning(service + ": listener=" + listener + ", accept=" + (pause.count() ? "paused" : "failed") +
                     ", error=" + ec.message() + ", failures=" + std::to_string(n) + ", pause=" +
                     std::to_string(pause.count()) + "ms");
      if (pause.count()) {
        pause_timer.expires_after(pause);
        co_await pause_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    pause = milliseconds(0);
    if (failed && resumed.note())
      log::info(service + ": listener=" + listener + ", accept=resumed, failures=" + std::to_string(failed));
    failed = 0;
    const std::string client = client_of(socket);
    auto admission = connections.admit(client);
    if (admission.reached != ConnectionTable::Limit::none) {
      const bool admitted = admission.slot.has_value();
      if (const auto n = (admitted ? made_room : refused).note())
        log::warning(service + ": closed=" + (admitted ? "idle_longest" : "new") + ", listener=" + listener +
                     (client.empty() ? "" : ", client=" + client) + ", limit=" + limit_key(admission.reached) +
                     ", connections=" + std::to_string(n));
    }
    if (!admission.slot) continue;  // every connection in the way is being answered; this one closes
    asio::co_spawn(acceptor->get_executor(), handler(std::move(socket), std::move(*admission.slot)), asio::detached);
  }
}

}  // namespace

std::vector<SocketAddress> parse_listen_specs(const std::string& list, const std::string& key) {
  std::vector<SocketAddress> specs;
  for (const auto& item : split_list(list)) specs.push_back(parse_socket_address(item, key));
  return specs;
}

void start_listeners(asio::io_context& io, const std::vector<SocketAddress>& specs, const SocketAccess& access,
                     ConnectionTable& connections, const ConnectionHandlers& handlers, const std::string& service) {
  for (const auto& s : specs) {
    const std::string where = service + " " + s.text;
    try {
      if (s.unix_socket) {
        std::error_code fs_ec;
        if (std::filesystem::is_socket(s.path, fs_ec)) std::filesystem::remove(s.path, fs_ec);
        auto acceptor = std::make_shared<local_stream::acceptor>(io, local_stream::endpoint(s.path));
        apply_socket_access(s.path, access);
        asio::co_spawn(io, accept_loop(acceptor, handlers.on_unix, connections, service, s.text), asio::detached);
      } else {
        auto acceptor = std::make_shared<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address(s.address), s.port));
        asio::co_spawn(io, accept_loop(acceptor, handlers.on_tcp, connections, service, s.text), asio::detached);
      }
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(where + ": cannot listen: " + e.code().message());
    }
    log::info(service + ": listening on " + s.text);
  }
}

}  // namespace mxtls
