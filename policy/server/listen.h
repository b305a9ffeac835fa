// Listening sockets as operators write them: "unix:/path" (owner, group,
// mode applied after bind; a stale socket file is replaced) and
// "inet:ADDRESS:PORT". Accept loops admit each connection into the
// connection table (which may close the connection idle longest to make
// room), hand it to a handler coroutine, and pause rather than spin when
// the process is out of descriptors or memory.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/socket_access.h"
#include "config/socket_address.h"
#include "server/connection_table.h"
#include "util/asio.h"

namespace mxtls {

using local_stream = asio::local::stream_protocol;

// A space-separated list of socket addresses; throws ConfigError naming
// `key` on a bad item.
std::vector<SocketAddress> parse_listen_specs(const std::string& list, const std::string& key);

// A handler for each accepted connection, for either kind of socket; the
// slot is the connection's place in the table, for its request loop.
struct ConnectionHandlers {
  std::function<asio::awaitable<void>(tcp::socket, ConnectionSlot)> on_tcp;
  std::function<asio::awaitable<void>(local_stream::socket, ConnectionSlot)> on_unix;
};

// Binds every spec and spawns its accept loop on `io`. Throws ConfigError
// naming the key when the socket's owner, group or mode cannot be applied,
// std::runtime_error naming the socket on other failures (start-up errors).
void start_listeners(asio::io_context& io, const std::vector<SocketAddress>& specs, const SocketAccess& access,
                     ConnectionTable& connections, const ConnectionHandlers& handlers, const std::string& service);

}  // namespace mxtls
