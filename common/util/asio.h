// One include for Boost.Asio (with SSL and C++20 coroutines) across mxtls.
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
// including it first here keeps every user of Asio compiling with GCC 12.
#pragma once
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace mxtls {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
}  // namespace mxtls
