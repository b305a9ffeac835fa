#include "probe/host_probes.h"

#include <optional>
#include <string>
#include <unordered_map>

namespace mxtls {
namespace {

struct Flight {
  explicit Flight(const asio::any_io_executor& ex) : landed(ex, asio::steady_timer::time_point::max()) {}
  std::optional<MxProbe> facts;
  asio::steady_timer landed;  // cancelled when facts are set
};

struct Address {
  std::shared_ptr<AsyncSemaphore> connections;
  int flights = 0;
};

// Runs `f` when the scope ends, by return or by exception.
template <typename F>
struct AtScopeEnd {
  F f;
  ~AtScopeEnd() { f(); }
};

}  // namespace

struct HostProbes::State {
  asio::any_io_executor executor;
  int connections_per_address;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;  // by format_mx()
  std::unordered_map<std::string, Address> addresses;
};

HostProbes::HostProbes(asio::any_io_executor executor, int connections_per_address)
    : state_(std::make_shared<State>(State{std::move(executor), connections_per_address, {}, {}})) {}

asio::awaitable<bool> HostProbes::probe(MxProbe& mx, const std::string& variant, const Run& run,
                                        const std::function<void()>& on_join) {
  const auto state = state_;
  const std::string key = format_mx(mx) + variant;
  if (const auto in_flight = state->flights.find(key); in_flight != state->flights.end()) {
    const auto flight = in_flight->second;
    on_join();
    while (!flight->facts) {
      boost::system::error_code ec;
      co_await flight->landed.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const int preference = mx.preference;  // this destination's MX record
    mx = *flight->facts;
    mx.preference = preference;
    co_return true;
  }

  const auto flight = std::make_shared<Flight>(state->executor);
  state->flights.emplace(key, flight);
  Address& address = state->addresses[mx.address];
  if (!address.connections)
    address.connections = std::make_shared<AsyncSemaphore>(state->executor, state->connections_per_address);
  ++address.flights;
  const auto connections = address.connections;
  MxProbe stopped = mx;  // what waiting destinations get if `run` throws
  stopped.failure = Reason::probe_error;
  stopped.failure_detail = "internal error: the probe of this host for another destination stopped";
  const AtScopeEnd land{[state, key, flight, stopped = std::move(stopped)] {
    if (!flight->facts) flight->facts = stopped;
    flight->landed.cancel();
    state->flights.erase(key);
    const auto address = state->addresses.find(stopped.address);
    if (--address->second.flights == 0) state->addresses.erase(address);
  }};
  co_await run(mx, *connections);
  flight->facts = mx;
  co_return false;
}

}  // namespace mxtls
