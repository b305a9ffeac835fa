// The daemon's probes, off the thread that answers: a thread of their own
// with its own io_context, and on it everything a probe touches (the DNS
// resolver, the Prober and its host probes, the MTA-STS resolver the prober
// uses, TLS handshakes and certificate parsing), the judging of a
// finished probe (classification, MTA-STS, the probe log lines, the verdict
// to store) and the tlspolicy socketmap's MTA-STS lookups (sts_policy()).
// The answering thread keeps what answers read and the scheduler's
// bookkeeping (queue, backoff, cache, waiters): it hands a target over with
// probe() and gets back, run on its own io_context, the "only waiting
// for hosts probed for others" notice and the JudgedProbe.
// The hand-off is bounded both ways by the Scheduler: it starts at most
// cache.max_parallel probes holding a slot plus cache.max_queue waiting
// ones, and each probe sends back one notice at most and one result. Both
// ways go through a Handoff (engine/handoff.h), which shares no lock
// between the threads.
// The probe thread runs at nice 10: a busy core serves answers first.
// Not for the CLI, which probes on its one thread.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "config/config.h"
#include "dns/resolver.h"
#include "engine/dane_tlspolicy.h"
#include "engine/handoff.h"
#include "probe/probe_setup.h"
#include "probe/prober.h"
#include "store/store.h"

namespace mxtls {

// A probe judged on the probe thread, for the answering thread to record.
struct JudgedProbe {
  std::string domain;
  std::string error;       // the probe itself failed (a fault of ours): nothing else is set
  StoredVerdict stored;    // expires_at is the recorder's (its TTLs)
  DaneTlspolicy::Kind dane = DaneTlspolicy::Kind::none;
  std::string where;       // the deciding MX host, else the domain (local-problem detection)
  std::chrono::steady_clock::duration took{};
};

// The verdict of a finished probe, logged (one line per MX address).
JudgedProbe judge_probe(const std::string& domain, const DestinationProbe& probe, const ClientProfile& profile,
                        const sts::Judging* sts);

class ProbeThread {
 public:
  // Builds the probe side from `config` ([probe], [dns], [mta_sts]); throws
  // as Prober and start_sts do. The thread starts at start().
  ProbeThread(asio::io_context& answering, const Config& config, const ClientProfile& profile);
  ~ProbeThread();
  ProbeThread(const ProbeThread&) = delete;
  ProbeThread& operator=(const ProbeThread&) = delete;

  void start();
  // Stops the thread (probes in flight are dropped, their callbacks never
  // run) and tears down its io_context before what its probes use.
  void stop();

  // From the answering thread; both callbacks run there.
  using OnWaiting = std::function<void()>;
  using OnDone = std::function<void(JudgedProbe)>;
  void probe(std::string domain, Target target, OnWaiting on_waiting, OnDone on_done);
  // A reload's [probe] settings, applied on the probe thread (Prober::reconfigure).
  void reconfigure(const ProbeConfig& config);
  bool sts_enabled() const { return sts_.resolver != nullptr; }
  // For the tlspolicy socketmap (engine/sts_policies.h): a domain's MTA-STS
  // cache entry from the probe thread's StsResolver, looked up there first
  // when it has none or one checked more than [mta_sts] recheck ago.
  // `on_done` runs on the answering thread with a copy (nullopt: MTA-STS
  // is off, or the lookup failed on a fault of ours).
  using OnPolicy = std::function<void(std::optional<sts::CachedPolicy>)>;
  void sts_policy(std::string domain, OnPolicy on_done);

 private:
  // shutdown() is protected in asio::execution_context: stop() needs it to
  // destroy the probes' coroutine frames while the Prober they use lives.
  struct Io : asio::io_context {
    Io() : asio::io_context(1) {}
    using asio::io_context::shutdown;
  };
  asio::awaitable<void> warm_up();
  void to_probe_thread(Handoff::Task task);      // from the answering thread
  void to_answering_thread(Handoff::Task task);  // from the probe thread
  asio::awaitable<void> run(std::string domain, Target target, OnWaiting on_waiting, OnDone on_done);
  asio::awaitable<void> look_up_policy(std::string domain, OnPolicy on_done);

  asio::io_context& answering_;
  Io io_;  // first: destroyed last
  Handoff to_probe_;      // consumed on io_
  Handoff to_answering_;  // consumed on answering_
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  ClientProfile profile_;
  dns::Resolver resolver_;
  StsSetup sts_;
  Prober prober_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};  // also read by the probe thread waiting for room to send
};

}  // namespace mxtls
