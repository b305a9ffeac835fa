// Probes one destination the way our MTA would reach it: resolve MX (null MX,
// fallback to A/AAAA; or a literal [host]), then each MX host's addresses of
// the families our MTA uses, in its order and within its address limit
// (probe/address_order.h), and per address (in parallel; bounded) connect,
// greet, EHLO, STARTTLS and the compat handshake, then the survey
// handshakes (one TLS version each) that tell why something failed: with
// survey = on-failure (the daemon's default) only where the classifier reads
// them (see needs_survey), so a healthy destination costs one connection. An MX host probed for one destination is probed once for every
// destination that needs it meanwhile (probe/host_probes.h). A global
// semaphore bounds open connections, and one per address those to each
// address; every step has a deadline, and all connections for one
// destination share one overall deadline (destination_timeout, from the end
// of the address lookups); each step waits as long as our MTA would
// (probe/step_timeouts.h). Produces evidence (probe_result.h); judging is the
// classifier's.
#pragma once
#include <functional>
#include <memory>

#include "config/config.h"
#include "dns/resolver.h"
#include "probe/address_order.h"
#include "probe/host_probes.h"
#include "probe/probe_result.h"
#include "probe/step_timeouts.h"
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

  // `on_waiting`, if given, is called at most once: when all that is left
  // of this probe is waiting for MX hosts probed for other destinations
  // (no lookup or connection of its own), so the caller can hand its probe
  // slot to another destination.
  asio::awaitable<DestinationProbe> probe(const Target& target, std::function<void()> on_waiting = {});

  // A reload: timeouts ([probe] ones; the MTA's come with the profile, set
  // at start), survey, MX limit and HELO name for the probes that
  // start from now on. The connection limits (concurrency,
  // connections_per_address) are sized at start and stay.
  void reconfigure(const ProbeConfig& config);

  // MTA-STS: look each domain's policy up with `resolver` and, where one
  // applies (testing, enforce), make the handshake our MTA makes under it
  // with `sts_profile` (the secure level's settings). Throws ProfileError.
  void enable_sts(sts::StsResolver& resolver, const ClientProfile& sts_profile);

 private:
  struct Host {
    std::string name;
    int preference = 0;
    bool from_mx = false;  // listed in the domain's MX RRset
  };
  // How the compat handshake is made: the context and SNI of the level that
  // applies to the host (at dane/dane-only, the one DNSSEC decided), the
  // names to match, and the TLSA records to authenticate with, if any.
  struct CompatSetup {
    asio::ssl::context* context = nullptr;
    std::string sni;
    std::optional<DaneSetup> dane;
  };
  // One address our MTA would try (or, for a host without any, the lookup's failure).
  struct Entry {
    MxAddress target;
    bool has_address = false;
    bool alternate = false;  // not its host's first address
    std::string failure_detail;
    bool bogus = false;
  };
  // One host's addresses of the families the MTA uses, as resolved.
  struct HostAddresses {
    std::vector<MxAddress> addresses;
    std::string detail;  // why there are none
    bool bogus = false;
  };
  struct Progress;
  asio::awaitable<void> resolve_hosts(const Target& target, DestinationProbe& out, std::vector<Host>& hosts);
  asio::awaitable<void> lookup_addresses(const Host& host, HostAddresses& out);
  std::vector<Entry> plan_entries(const std::vector<Host>& hosts, std::vector<HostAddresses>& lookups, DestinationProbe& out);
  using Deadline = std::chrono::steady_clock::time_point;
  asio::awaitable<void> probe_host(const Entry& entry, const Target& target, const DestinationProbe& destination,
                                   const sts::Policy* policy, Deadline deadline, MxProbe& out, Progress& progress);
  // One host's probe (shared by the destinations that need the same host
  // with the same DANE inputs and MTA-STS need): its TLSA records when DANE
  // asks for them, the compat handshake, the survey, and with `sts` the
  // connection Postfix makes under an MTA-STS policy.
  asio::awaitable<void> run_host(MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline, bool sts);
  enum class SurveyWhen { never, on_failure, always };
  static SurveyWhen survey_when(const std::string& setting);
  bool needs_survey(const MxProbe& mx) const;
  bool family_allowed(const asio::ip::address& a) const {
    return a.is_v6() ? profile_.connection.ipv6 : profile_.connection.ipv4;
  }
  asio::awaitable<void> lookup_tlsa(MxProbe& mx);
  CompatSetup compat_setup(const MxProbe& mx);
  asio::awaitable<void> run_compat(MxProbe& mx, const CompatSetup& setup, AsyncSemaphore& address_connections,
                                   Deadline deadline);
  // One survey handshake with `context` (a version's, or certified()) into `result`.
  asio::awaitable<void> run_survey(const MxProbe& mx, asio::ssl::context& context, HandshakeResult& result, bool send_sni,
                                   AsyncSemaphore& address_connections, Deadline deadline);
  asio::awaitable<void> run_sts(MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline);
  asio::awaitable<void> lookup_sts(const std::string& domain, sts::Lookup& out);
  asio::awaitable<bool> speaks_implicit_tls(const MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline);
  // Does the certificate the compat handshake got name the host as this destination's profile asks?
  bool host_matches(const HandshakeResult& compat, const std::string& mx_host, const std::string& nexthop) const;

  asio::io_context& io_;
  ProbeConfig config_;
  ClientProfile profile_;
  StepTimeouts timeouts_;
  SurveyWhen survey_;
  dns::Resolver& resolver_;
  TlsClientContexts contexts_;
  sts::StsResolver* sts_ = nullptr;
  std::unique_ptr<TlsClientContexts> sts_contexts_;
  AsyncSemaphore connections_;
  HostProbes hosts_;
  std::string helo_name_;
};

}  // namespace mxtls
