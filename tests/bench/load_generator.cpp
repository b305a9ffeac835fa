// Benchmark tool (on demand): a load generator for the policy protocol and
// socketmap lookups that cannot be the bottleneck. One thread, epoll, N
// persistent connections each with one request in flight: closed loop (as
// fast as the server answers), or paced to a total rate, where latency is
// measured from the moment a request was due (so a stalled server is not
// excused by the generator waiting for it). Reports requests/s, latency
// percentiles and the generator's own CPU time, so a run can show that the
// generator had CPU to spare.
//   usage: mxtls-bench-load policy|socketmap:MAP unix:/path|inet:HOST:PORT CONNECTIONS REQUESTS [RATE] < domains
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_to(const std::string& target) {
  int fd = -1;
  if (target.rfind("unix:", 0) == 0) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, target.c_str() + 5, sizeof sa.sun_path - 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return close(fd), -1;
  } else {
    const auto rest = target.substr(5);
    const auto colon = rest.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(rest.substr(colon + 1))));
    inet_pton(AF_INET, rest.substr(0, colon).c_str(), &sa.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return close(fd), -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::string g_map = "transport";  // socketmap map name ("socketmap:NAME" mode)

std::string request_for(bool policy, const std::string& domain, long i) {
  if (policy)
    return "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.7\n"
           "client_name=client.example\nhelo_name=client.example\nsender=alice@example.org\nrecipient=user" +
           std::to_string(i) + "@" + domain + "\nqueue_id=\nsize=1234\n\n";
  const std::string q = g_map + " " + domain;
  return std::to_string(q.size()) + ":" + q + ",";
}

// True when `buf` holds one complete reply.
bool complete(bool policy, const std::string& buf) {
  if (policy) return buf.size() >= 2 && buf.compare(buf.size() - 2, 2, "\n\n") == 0;
  const auto colon = buf.find(':');
  return colon != std::string::npos && buf.size() >= colon + 2 + std::stoul(buf.substr(0, colon));
}

struct Connection {
  int fd = -1;
  long sent = 0, quota = 0;
  Clock::time_point due, started;  // when the request in flight was due / written
  bool in_flight = false;
  std::string reply;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: mxtls-bench-load policy|socketmap:MAP TARGET CONNECTIONS REQUESTS [RATE] < domains\n");
    return 64;
  }
  const std::string mode = argv[1];
  const bool policy = mode == "policy";
  if (mode.rfind("socketmap:", 0) == 0) g_map = mode.substr(10);
  const std::string target = argv[2];
  const int conns = std::max(1, std::atoi(argv[3]));
  const long total = std::atol(argv[4]);
  const double rate = argc > 5 ? std::atof(argv[5]) : 0;
  std::vector<std::string> domains;
  for (std::string d; std::getline(std::cin, d);)
    if (!d.empty()) domains.push_back(d);
  if (domains.empty()) domains.push_back("example.com");

  const int ep = epoll_create1(0);
  std::vector<Connection> cs(static_cast<std::size_t>(conns));
  long errors = 0;
  const auto start = Clock::now();
  // Paced: each connection sends every conns/rate seconds, the connections
  // spread evenly over one interval.
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(rate > 0 ? conns / rate : 0));
  for (int c = 0; c < conns; ++c) {
    auto& k = cs[static_cast<std::size_t>(c)];
    k.quota = total / conns + (c < total % conns ? 1 : 0);
    k.fd = connect_to(target);
    if (k.fd < 0) {
      ++errors;
      continue;
    }
    k.due = start + interval * c / conns;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(c);
    epoll_ctl(ep, EPOLL_CTL_ADD, k.fd, &ev);
  }
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(total));

  const auto send_due = [&](Clock::time_point now) {
    for (std::size_t c = 0; c < cs.size(); ++c) {
      auto& k = cs[c];
      if (k.fd < 0 || k.in_flight || k.sent >= k.quota || (rate > 0 && k.due > now)) continue;
      const auto& domain = domains[static_cast<std::size_t>(k.sent * conns + static_cast<long>(c)) % domains.size()];
      const std::string req = request_for(policy, domain, k.sent);
      // Requests are small: a loopback socket takes one whole.
      if (send(k.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ++errors;
        close(k.fd);
        k.fd = -1;
        continue;
      }
      k.started = now;
      if (rate <= 0) k.due = now;
      k.in_flight = true;
      ++k.sent;
    }
  };
  const auto finished = [&] {
    for (const auto& k : cs)
      if (k.fd >= 0 && (k.in_flight || k.sent < k.quota)) return false;
    return true;
  };

  epoll_event events[256];
  char chunk[16384];
  send_due(Clock::now());
  while (!finished()) {
    // Paced requests fall due every conns/rate seconds, often less than a
    // millisecond apart: the wait is in nanoseconds (epoll_pwait2), since
    // one in milliseconds rounds those down to 0 and spins a core.
    timespec wait{};
    const timespec* timeout = nullptr;
    if (rate > 0) {
      auto next = Clock::time_point::max();
      for (const auto& k : cs)
        if (k.fd >= 0 && !k.in_flight && k.sent < k.quota) next = std::min(next, k.due);
      if (next != Clock::time_point::max()) {
        const auto ns = std::max<long>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(next - Clock::now()).count());
        wait = {ns / 1000000000, ns % 1000000000};
        timeout = &wait;
      }
    }
    const int n = epoll_pwait2(ep, events, 256, timeout, nullptr);
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto& k = cs[events[i].data.u32];
      const ssize_t got = recv(k.fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        ++errors;
        close(k.fd);
        k.fd = -1;
        continue;
      }
      k.reply.append(chunk, static_cast<std::size_t>(got));
      if (!k.in_flight || !complete(policy, k.reply)) continue;
      latencies.push_back(std::chrono::duration<double, std::micro>(now - k.due).count());
      k.reply.clear();
      k.in_flight = false;
      if (rate > 0) k.due += interval;
    }
    send_due(now);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf("requests=%zu errors=%ld elapsed=%.2fs rps=%.0f p50=%.0fus p99=%.0fus p999=%.0fus generator_cpu=%.0f%%\n",
              latencies.size(), errors, elapsed, latencies.size() / elapsed, pct(0.50), pct(0.99), pct(0.999),
              100 * cpu_seconds() / elapsed);
  return errors ? 1 : 0;
}
