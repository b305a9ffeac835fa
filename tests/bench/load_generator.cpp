// Benchmark tool (on demand): a load generator for the policy protocol and
// socketmap lookups. N persistent connections, each sending its share of
// requests one after another (closed loop), or paced to a total rate;
// reports requests/s and latency percentiles. Blocking sockets, one thread
// per connection: simple enough to trust the numbers.
//   usage: mxtls-bench-load policy|socketmap:MAP unix:/path|inet:HOST:PORT CONNECTIONS REQUESTS [RATE] < domains
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_to(const std::string& target) {
  if (target.rfind("unix:", 0) == 0) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, target.c_str() + 5, sizeof sa.sun_path - 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return -1;
    return fd;
  }
  const auto rest = target.substr(5);
  const auto colon = rest.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(rest.substr(colon + 1))));
  inet_pton(AF_INET, rest.substr(0, colon).c_str(), &sa.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return -1;
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
  const int conns = std::atoi(argv[3]);
  const long total = std::atol(argv[4]);
  const double rate = argc > 5 ? std::atof(argv[5]) : 0;
  std::vector<std::string> domains;
  for (std::string d; std::getline(std::cin, d);)
    if (!d.empty()) domains.push_back(d);
  if (domains.empty()) domains.push_back("example.com");

  std::vector<std::vector<double>> latencies(conns);
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      const int fd = connect_to(target);
      if (fd < 0) {
        ++errors;
        return;
      }
      const long mine = total / conns;
      const auto interval = rate > 0 ? std::chrono::duration<double>(conns / rate) : std::chrono::duration<double>(0);
      auto next = Clock::now() + std::chrono::duration_cast<Clock::duration>(interval * (static_cast<double>(c) / conns));
      latencies[c].reserve(static_cast<std::size_t>(mine));
      std::string buf;
      char chunk[4096];
      for (long i = 0; i < mine; ++i) {
        if (rate > 0) {
          std::this_thread::sleep_until(next);
          next += std::chrono::duration_cast<Clock::duration>(interval);
        }
        const std::string req = request_for(policy, domains[static_cast<std::size_t>(i * conns + c) % domains.size()], i);
        const auto t0 = Clock::now();
        if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
          ++errors;
          break;
        }
        buf.clear();
        while (!complete(policy, buf)) {
          const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
          if (n <= 0) {
            ++errors;
            close(fd);
            return;
          }
          buf.append(chunk, static_cast<std::size_t>(n));
        }
        latencies[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  std::printf("requests=%zu errors=%ld elapsed=%.2fs rps=%.0f p50=%.0fus p99=%.0fus p999=%.0fus\n", all.size(), errors.load(),
              elapsed, all.size() / elapsed, pct(0.50), pct(0.99), pct(0.999));
  return errors.load() ? 1 : 0;
}
