#include "engine_client/policy_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "codec/policy_request.h"

namespace mxtls {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int rc = poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

}  // namespace

PolicyClient::PolicyClient(SocketAddress target, std::chrono::milliseconds timeout, std::size_t max_idle)
    : target_(std::move(target)), timeout_(timeout), max_idle_(max_idle) {}

PolicyClient::~PolicyClient() {
  for (int fd : idle_) close(fd);
}

int PolicyClient::open_connection(Clock::time_point deadline, std::string& error) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_UNIX;
  if (target_.unix_socket) {
    auto* sa = reinterpret_cast<sockaddr_un*>(&ss);
    sa->sun_family = AF_UNIX;
    if (target_.path.size() >= sizeof sa->sun_path) {
      error = "socket path too long: " + target_.text;
      return -1;
    }
    std::strcpy(sa->sun_path, target_.path.c_str());
    len = sizeof(sockaddr_un);
  } else if (auto* v4 = reinterpret_cast<sockaddr_in*>(&ss); inet_pton(AF_INET, target_.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = family = AF_INET;
    v4->sin_port = htons(target_.port);
    len = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_pton(AF_INET6, target_.address.c_str(), &v6->sin6_addr);  // parse_socket_address checked it
    v6->sin6_family = family = AF_INET6;
    v6->sin6_port = htons(target_.port);
    len = sizeof(sockaddr_in6);
  }
  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    if (err == EINPROGRESS && wait_for(fd, POLLOUT, deadline)) {
      socklen_t l = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    } else if (err == EINPROGRESS) {
      err = ETIMEDOUT;
    }
    if (err != 0) {
      error = "connect " + target_.text + ": " + std::strerror(err);
      close(fd);
      return -1;
    }
  }
  return fd;
}

std::optional<std::string> PolicyClient::exchange(int fd, const std::string& wire, Clock::time_point deadline,
                                                  std::string& error) {
  std::size_t sent = 0;
  while (sent < wire.size()) {
    const ssize_t n = send(fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline)) {
      continue;
    } else {
      error = n < 0 && errno != EAGAIN ? std::string("send: ") + std::strerror(errno) : "engine did not take the request in time";
      return std::nullopt;
    }
  }
  std::string buffer;
  codec::PolicyParseProgress progress;
  char chunk[4096];
  while (true) {
    const auto parsed = codec::parse_policy_request(buffer, progress);
    if (parsed.status == codec::ParseStatus::complete) {
      buffer.resize(parsed.consumed);
      return buffer;
    }
    if (parsed.status == codec::ParseStatus::malformed) {
      error = "malformed reply from engine: " + parsed.error;
      return std::nullopt;
    }
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN && wait_for(fd, POLLIN, deadline)) {
      continue;
    } else {
      error = n == 0 ? "engine closed the connection" : n < 0 && errno != EAGAIN ? std::string("recv: ") + std::strerror(errno)
                                                                                 : "engine did not answer in time";
      return std::nullopt;
    }
  }
}

std::optional<std::string> PolicyClient::ask(const std::string& wire, std::string& error) {
  const auto deadline = Clock::now() + timeout_;
  // A pooled connection may have been closed by the daemon's idle timeout:
  // on failure, one more try on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = -1;
    bool pooled = false;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty() && attempt == 0) {
        fd = idle_.back();
        idle_.pop_back();
        pooled = true;
      }
    }
    if (fd < 0 && (fd = open_connection(deadline, error)) < 0) return std::nullopt;
    auto reply = exchange(fd, wire, deadline, error);
    if (reply) {
      std::lock_guard lock(mutex_);
      if (idle_.size() < max_idle_) idle_.push_back(fd);
      else close(fd);
      return reply;
    }
    close(fd);
    if (!pooled || remaining_ms(deadline) == 0) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace mxtls
