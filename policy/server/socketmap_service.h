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
#include "engine/sts_policies.h"
#include "engine/verdict_cache.h"
#include "server/connection_table.h"
#include "server/request_loop.h"
#include "tls/client_profile.h"

namespace mxtls {

class SocketmapService {
 public:
  // `sts`: the MTA-STS policies for tlspolicy_source dane-sts/both, looked
  // up on the probe thread (may be null with tlspolicy_source = probes).
  SocketmapService(VerdictCache& cache, Scheduler& scheduler, const PolicySettings& settings, const PolicyConfig& config,
                   const ClientProfile& profile, DaemonMetrics& metrics, StsPolicies* sts = nullptr);

  template <typename Socket>
  asio::awaitable<void> serve(Socket socket, ConnectionSlot slot);

  // One query -> the reply payload (without netstring framing), from
  // probe verdicts only (tlspolicy_source = probes).
  std::string answer(const codec::SocketmapQuery& query);
  // The same with the published policies (DANE, MTA-STS) where
  // tlspolicy_source says so: may wait for a policy lookup (on the probe
  // thread; the answering thread serves others meanwhile).
  asio::awaitable<std::string> answer_async(const codec::SocketmapQuery& query);
  // answer_async's answer when it needs no waiting (everything but the
  // first lookup of a domain's policy), else nullopt.
  std::optional<std::string> answer_now(const codec::SocketmapQuery& query);

  // The tlspolicy value for an enforced MTA-STS policy, as
  // postfix-mta-sts-resolver answers it ("secure match=<patterns joined with
  // ':'> servername=hostname"), plus the TLSRPT attributes when `tlsrpt`.
  // `failure`: the policy_failure value, "" for none.
  static std::string sts_answer(const std::string& domain, const sts::Policy& policy, bool tlsrpt, std::string_view failure);

  // A reload: the [policy] settings the answers read, and the timeouts.
  void reconfigure(const PolicyConfig& config);

 private:
  const CachedVerdict* lookup(const std::string& key, std::string& domain);
  // RFC 8461 2: DANE wins over MTA-STS: "dane-only" or "dane" when the
  // domain's last probe (at a dane level) found DNSSEC-secure TLSA records
  // (engine/dane_tlspolicy); nullopt: no DANE.
  std::optional<std::string> dane_answer(const std::string& domain);
  // The published-policy answer from a cache entry (entry may be null).
  std::string published_answer(const codec::SocketmapQuery& q, const std::string& domain,
                               const sts::CachedPolicy* entry, bool waited);
  VerdictCache& cache_;
  Scheduler& scheduler_;
  const PolicySettings& settings_;
  DaemonMetrics& metrics_;
  PolicyConfig config_;
  std::string level_;
  RequestTimeouts timeouts_;
  ConnectionEndLog end_log_;
  StsPolicies* sts_;
};

}  // namespace mxtls
