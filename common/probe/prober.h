// Probes one destination the way our MTA would reach it: resolve MX (null MX,
// fallback to A/AAAA; or a literal [host]), then per MX host (up to a bound,
// in parallel) connect, greet, EHLO, STARTTLS and the compat handshake, then
// the survey handshakes (one TLS version each) that tell why something
// failed. A global semaphore bounds open connections; every step has a
// deadline, and all connections for one destination share one overall
// deadline (destination_timeout, from the end of the MX lookup). Produces evidence (probe_result.h); judging is the classifier's.
#pragma once
#include <memory>

#include "config/config.h"
#include "dns/resolver.h"
#include "probe/probe_result.h"
#include "probe/target.h"
#include "sts/resolver.h"
#include "tls/client_profile.h"
#include "tls/handshake.h"
#include "util/async_sync.h"

namespace mxtls {

class Prober {
 public:
  // Throws ProfileError if the profile cannot be turned into TLS contexts.
  Prober(asio::io_context& io, const ProbeConfig& config, const ClientProfile& profile, dns::Resolver& resolver);

  asio::awaitable<DestinationProbe> probe(const Target& target);

  // MTA-STS: look each domain's policy up with `resolver` and, where one
  // applies (testing, enforce), make the handshake our MTA makes under it
  // with `sts_profile` (the secure level's settings). Throws ProfileError.
  void enable_sts(sts::StsResolver& resolver, const ClientProfile& sts_profile);

 private:
  struct Host {
    std::string name;
    int preference = 0;
  };
  asio::awaitable<void> resolve_hosts(const Target& target, DestinationProbe& out, std::vector<Host>& hosts);
  using Deadline = std::chrono::steady_clock::time_point;
  asio::awaitable<void> probe_host(const Host& host, const Target& target, const sts::Policy* policy, Deadline deadline,
                                   MxProbe& out);
  asio::awaitable<std::optional<asio::ip::address>> first_address(const std::string& host, std::string& detail);
  asio::awaitable<void> run_compat(MxProbe& mx, const MatchNames& match, Deadline deadline);
  asio::awaitable<void> run_survey(MxProbe& mx, TlsVersion version, bool send_sni, Deadline deadline);
  asio::awaitable<void> run_sts(MxProbe& mx, const sts::Policy& policy, Deadline deadline);
  asio::awaitable<void> lookup_sts(const std::string& domain, sts::Lookup& out);
  asio::awaitable<bool> speaks_implicit_tls(const MxProbe& mx, Deadline deadline);
  MatchNames match_names(const std::string& mx_host, const std::string& nexthop) const;

  asio::io_context& io_;
  ProbeConfig config_;
  ClientProfile profile_;
  dns::Resolver& resolver_;
  TlsClientContexts contexts_;
  sts::StsResolver* sts_ = nullptr;
  std::unique_ptr<TlsClientContexts> sts_contexts_;
  AsyncSemaphore connections_;
  std::string helo_name_;
};

}  // namespace mxtls
