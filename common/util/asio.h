// One include for Boost.Asio (with C++20 coroutines) across mxtls. Asio's
// SSL layer is tls/handshake.h's: the base library must not need OpenSSL.
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
// including it first here keeps every user of Asio compiling with GCC 12.
#pragma once
#include <utility>
#include <boost/asio.hpp>

namespace mxtls {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
}  // namespace mxtls
