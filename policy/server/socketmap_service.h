// The socketmap server (socketmap_table(5)) over the same verdicts, with
// three maps: "transport" (transport_maps: reroute a recipient domain at
// delivery time), "tlspolicy" (smtp_tls_policy_maps: a per-destination TLS
// policy where the configuration allows one) and "mailertable" (Sendmail).
// Unknown domains are NOTFOUND and queued for a probe. Keys may be domains
// or full addresses (Postfix sends transport_maps the whole address).
#pragma once
#include <string>

#include "codec/socketmap.h"
#include "engine/daemon_metrics.h"
#include "engine/decision.h"
#include "engine/scheduler.h"
#include "engine/verdict_cache.h"
#include "server/connection_table.h"
#include "server/request_loop.h"
#include "tls/client_profile.h"

namespace mxtls {

class SocketmapService {
 public:
  SocketmapService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings, const PolicyConfig& config,
                   const ClientProfile& profile, DaemonMetrics& metrics);

  template <typename Socket>
  asio::awaitable<void> serve(Socket socket, ConnectionSlot slot);

  // One query -> the reply payload (without netstring framing).
  std::string answer(const codec::SocketmapQuery& query);

  // A reload: the [policy] settings the answers read, and the timeouts.
  void reconfigure(const PolicyConfig& config);

 private:
  const CachedVerdict* lookup(const std::string& key, std::string& domain);
  VerdictCache& cache_;
  Scheduler& scheduler_;
  const PolicySettings& settings_;
  DaemonMetrics& metrics_;
  PolicyConfig config_;
  std::string level_;
  RequestTimeouts timeouts_;
  ConnectionEndLog end_log_;
};

}  // namespace mxtls
