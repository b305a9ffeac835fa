#include "server/listen.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "log/logger.h"

namespace mxtls {
namespace {

void apply_permissions(const std::string& path, const SocketPermissions& p) {
  if (!p.mode.empty()) {
    unsigned mode = 0;
    const auto r = std::from_chars(p.mode.data(), p.mode.data() + p.mode.size(), mode, 8);
    if (r.ec != std::errc() || r.ptr != p.mode.data() + p.mode.size() || mode > 0777)
      throw ConfigError("policy.socket_mode: '" + p.mode + "' is not an octal mode");
    if (chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!p.owner.empty()) {
    const passwd* pw = getpwnam(p.owner.c_str());
    if (!pw) throw ConfigError("policy.socket_owner: no such user '" + p.owner + "'");
    uid = pw->pw_uid;
  }
  if (!p.group.empty()) {
    const group* gr = getgrnam(p.group.c_str());
    if (!gr) throw ConfigError("policy.socket_group: no such group '" + p.group + "'");
    gid = gr->gr_gid;
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && chown(path.c_str(), uid, gid) != 0)
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
}

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
  std::size_t pos = 0;
  while (pos < list.size()) {
    const auto end = list.find_first_of(" \t,", pos);
    const std::string item = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? list.size() : end + 1;
    if (item.empty()) continue;
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
        apply_permissions(s.path, perms);
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
