// probe/host_probes: destinations needing the same MX host while it is
// being probed share that one probe's facts; connections to one address are
// capped across host names; a probe that throws still releases its waiters.
#include <gtest/gtest.h>

#include <stdexcept>

#include "probe/host_probes.h"

namespace mxtls {
namespace {

MxProbe host(const std::string& name, int preference = 10) {
  MxProbe mx;
  mx.host = name;
  mx.address = "192.0.2.25";
  mx.preference = preference;
  return mx;
}

// A probe of one host that holds a connection permit for `ms` and records
// how many were held at once.
struct FakeRun {
  asio::io_context& io;
  int runs = 0, open = 0, most_open = 0;
  bool throws = false;
  HostProbes::Run run() {
    return [this](MxProbe& mx, AsyncSemaphore& connections) -> asio::awaitable<void> {
      ++runs;
      co_await connections.acquire();
      Permit permit(connections);
      most_open = std::max(most_open, ++open);
      asio::steady_timer timer(io, std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::use_awaitable);
      --open;
      if (throws) throw std::runtime_error("boom");
      mx.banner = "facts of " + mx.host;
    };
  }
};

asio::awaitable<void> probe_into(HostProbes& hosts, const HostProbes::Run& run, MxProbe& mx, bool& joined, int& waits) {
  const std::function<void()> on_join = [&waits] { ++waits; };
  try {
    joined = co_await hosts.probe(mx, "", run, on_join);
  } catch (const std::exception&) {
    mx.failure_detail = "owner threw";
  }
}

TEST(HostProbes, DestinationsNeedingAHostInFlightShareItsFacts) {
  asio::io_context io;
  HostProbes hosts(io.get_executor(), 2);
  FakeRun fake{io};
  const auto run = fake.run();
  MxProbe a = host("mx.shared.test", 10), b = host("mx.shared.test", 20);
  bool a_joined = true, b_joined = false;
  int waits = 0;
  asio::co_spawn(io, probe_into(hosts, run, a, a_joined, waits), asio::detached);
  asio::co_spawn(io, probe_into(hosts, run, b, b_joined, waits), asio::detached);
  io.run();
  EXPECT_EQ(fake.runs, 1);
  EXPECT_FALSE(a_joined);
  EXPECT_TRUE(b_joined);
  EXPECT_EQ(waits, 1);
  EXPECT_EQ(b.banner, "facts of mx.shared.test");
  EXPECT_EQ(b.preference, 20);  // its own MX record's

  // Nothing is kept once the probe has landed: the next one probes again.
  MxProbe c = host("mx.shared.test");
  bool c_joined = true;
  asio::co_spawn(io, probe_into(hosts, run, c, c_joined, waits), asio::detached);
  io.restart();
  io.run();
  EXPECT_EQ(fake.runs, 2);
  EXPECT_FALSE(c_joined);
}

TEST(HostProbes, ConnectionsToOneAddressAreCappedAcrossHostNames) {
  asio::io_context io;
  HostProbes hosts(io.get_executor(), 2);
  FakeRun fake{io};
  const auto run = fake.run();
  std::vector<MxProbe> mx{host("mx1.test"), host("mx2.test"), host("mx3.test"), host("mx4.test")};
  bool joined[4] = {};
  int waits = 0;
  for (int i = 0; i < 4; ++i) asio::co_spawn(io, probe_into(hosts, run, mx[i], joined[i], waits), asio::detached);
  io.run();
  EXPECT_EQ(fake.runs, 4);  // four names: four probes
  EXPECT_EQ(fake.most_open, 2);
  EXPECT_EQ(waits, 0);
}

TEST(HostProbes, WaitersOfAProbeThatThrewGetAProbeError) {
  asio::io_context io;
  HostProbes hosts(io.get_executor(), 2);
  FakeRun fake{io};
  fake.throws = true;
  const auto run = fake.run();
  MxProbe a = host("mx.shared.test"), b = host("mx.shared.test");
  bool a_joined = false, b_joined = false;
  int waits = 0;
  asio::co_spawn(io, probe_into(hosts, run, a, a_joined, waits), asio::detached);
  asio::co_spawn(io, probe_into(hosts, run, b, b_joined, waits), asio::detached);
  io.run();
  EXPECT_EQ(a.failure_detail, "owner threw");
  EXPECT_TRUE(b_joined);
  EXPECT_EQ(b.failure, Reason::probe_error);
}

}  // namespace
}  // namespace mxtls
