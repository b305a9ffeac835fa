// One probe in flight per MX host ("host[address]:port"): a destination
// that needs a host already being probed for another destination waits for
// that probe and takes a copy of its facts instead of connecting again, so
// a tarpit shared by many domains costs one probe. Facts are shared only
// while the probe runs; nothing is cached here. Also caps the connections
// open at once to one address, whatever names point at it.
// Single-threaded (the io_context's).
#pragma once
#include <functional>
#include <memory>

#include "probe/probe_result.h"
#include "util/async_sync.h"

namespace mxtls {

class HostProbes {
 public:
  HostProbes(asio::any_io_executor executor, int connections_per_address);

  // Probes one host, given the permits for connections to its address.
  using Run = std::function<asio::awaitable<void>(MxProbe&, AsyncSemaphore& address_connections)>;

  // Fills `mx` (host, address and port set) with the facts of a probe of
  // that host: `run`'s own, or, when another destination's probe of it is
  // in flight with the same `variant` (what else the probe depends on, ""
  // for nothing), a copy of its facts (`on_join` is called before waiting).
  // Returns whether it joined.
  asio::awaitable<bool> probe(MxProbe& mx, const std::string& variant, const Run& run,
                              const std::function<void()>& on_join);

 private:
  struct State;  // co-owned by running probes, so a frame destroyed at shutdown lands safely
  std::shared_ptr<State> state_;
};

}  // namespace mxtls
