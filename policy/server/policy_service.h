// The Postfix policy delegation server: reads requests on a long-lived
// connection, answers each from the cached verdict of the recipient's domain
// (unknown domains: DUNNO at once, probe in the background, optional short
// wait), logs one Postfix-shaped line per decision. A malformed or oversized
// request is logged and its connection closed; other connections go on.
// Besides Postfix's request=smtpd_access_policy it answers
// request=mxtls_verdict (mxtls-milter): the same decision, plus the verdict
// as mxtls_* attributes, since a milter annotates every recipient domain.
#pragma once
#include <string>
#include <string_view>

#include "codec/policy_request.h"
#include "engine/daemon_metrics.h"
#include "engine/decision.h"
#include "engine/scheduler.h"
#include "engine/verdict_cache.h"
#include "server/connection_table.h"
#include "server/request_loop.h"
#include "tls/client_profile.h"
#include "util/asio.h"

namespace mxtls {

class PolicyService {
 public:
  PolicyService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings, const PolicyConfig& config,
                const ClientProfile& profile, DaemonMetrics& metrics);

  template <typename Socket>
  asio::awaitable<void> serve(Socket socket, ConnectionSlot slot);

  // One request -> the reply's attribute lines (without the final empty
  // line). Logs the decision.
  asio::awaitable<std::string> answer(const codec::PolicyRequest& request);

  // A reload: the [policy] timeouts, unknown_wait and relayhost from now on
  // (open connections keep theirs until their next wait).
  void reconfigure(const PolicyConfig& config);

 private:
  void log_decision(std::string_view queue_id, std::string_view recipient, const std::string& domain,
                    const CachedVerdict* verdict, const Decision& d, std::string_view probe_note) const;

  VerdictCache& cache_;
  Scheduler& scheduler_;
  const PolicySettings& settings_;
  DaemonMetrics& metrics_;
  std::chrono::milliseconds unknown_wait_;
  RequestTimeouts timeouts_;
  ConnectionEndLog end_log_;
  std::string want_;
  std::string relayhost_;  // when set, the next hop judged for every recipient
};

// The cache key of a configured relayhost ("" for none); throws ConfigError.
std::string relayhost_key(const std::string& relayhost);

}  // namespace mxtls
