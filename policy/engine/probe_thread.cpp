#include "engine/probe_thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <future>
#include <thread>
#include <utility>

#include "classify/classifier.h"
#include "classify/probe_log.h"
#include "log/logger.h"
#include "log/sanitize.h"
#include "store/probe_record.h"

namespace mxtls {
namespace {

// The probe thread's nice value (the answering thread keeps the process's):
// CFS then gives the answering thread about ten times its share of a busy
// core. Not SCHED_IDLE, though it lets the answering thread preempt at once:
// the two threads share locks (the log sink's, each io_context's queue, the
// allocator's), and a probe thread starved by other processes' work while
// holding one stalls the answer behind it (measured: the answering thread
// waited up to 4.8 ms on such locks); its tiny weight also shrinks the
// daemon's share of the machine under autogroups, so probes slowed 2-3x.
constexpr int kProbeNice = 10;

// Tasks in each direction's ring before a sender waits or posts: far more
// than the answering thread sends between two turns of the probe thread.
constexpr std::size_t kHandoffCapacity = 4096;

}  // namespace

JudgedProbe judge_probe(const std::string& domain, const DestinationProbe& probe, const ClientProfile& profile,
                        const sts::Judging* sts) {
  auto verdict = classify_destination(probe, profile);
  if (sts) sts::apply_sts(probe, verdict, *sts);
  // Written here, not by the answering thread: a write(2) to a log file can
  // stall for milliseconds (ext4 journal commits, the store's fdatasync),
  // and answers must not wait behind probes' lines.
  for (const auto& line : format_probe_lines(probe, verdict, profile)) log::info(line);

  JudgedProbe out;
  out.domain = domain;
  // The facts (for mxtls report --what-if) are encoded here, off the answering thread.
  out.stored = stored_verdict(probe, verdict, profile, std::time(nullptr));
  out.stored.domain = domain;
  out.where = probe.hosts.empty() ? domain : probe.hosts[verdict.decisive].host;
  if (level_is_dane(profile.level)) out.dane = dane_tlspolicy(probe).kind;
  return out;
}

ProbeThread::ProbeThread(asio::io_context& answering, const Config& config, const ClientProfile& profile)
    : answering_(answering), to_probe_(io_, kHandoffCapacity), to_answering_(answering, kHandoffCapacity),
      work_(io_.get_executor()), profile_(profile), resolver_(io_, config.dns),
      sts_(start_sts(io_, resolver_, config)), prober_(io_, config.probe, profile, resolver_) {
  if (sts_.resolver) prober_.enable_sts(*sts_.resolver, sts_.judging.profile);
}

ProbeThread::~ProbeThread() { stop(); }

void ProbeThread::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "mxtls-probe");  // for top -H and perf
    // Probing is background work: where it competes for a core with the
    // answering thread (handshakes and certificate parsing against a policy
    // request), the answer goes first. Threads it starts (libunbound's)
    // inherit this. Best effort: raising one's nice value needs no privilege.
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kProbeNice);
    io_.run();
  });
  // libunbound starts its worker (a thread, pipes, an event base) at the
  // first query and ends the process when it gets no descriptors for them:
  // started now, while descriptors are plenty, not at the first probe
  // under load, with a query it answers itself (localhost is one of its
  // built-in local zones).
  std::promise<void> warm;
  asio::co_spawn(io_, warm_up(), [&warm](const std::exception_ptr&) { warm.set_value(); });
  warm.get_future().wait();
}

asio::awaitable<void> ProbeThread::warm_up() {
  const std::string name = "localhost";  // named: GCC 12 mis-destroys temporaries in co_await
  co_await resolver_.query(name, dns::kTypeA);
}

void ProbeThread::stop() {
  if (stopped_.exchange(true)) return;
  io_.stop();
  if (thread_.joinable()) thread_.join();
  io_.shutdown();
}

void ProbeThread::to_probe_thread(Handoff::Task task) {
  // A full ring (a burst the probe thread has not taken yet): posted, which
  // only takes the lock this avoids; the order of two probes' starts is free.
  if (!to_probe_.try_send(task)) asio::post(io_, std::move(task));
}

void ProbeThread::to_answering_thread(Handoff::Task task) {
  // A waiting notice and its probe's result must arrive in order: a full
  // ring is waited out here, in the background thread, never posted past;
  // unless the daemon is stopping, when nobody drains it (and results in
  // flight are dropped anyway).
  while (!to_answering_.try_send(task)) {
    if (stopped_) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void ProbeThread::probe(std::string domain, Target target, OnWaiting on_waiting, OnDone on_done) {
  to_probe_thread([this, domain = std::move(domain), target = std::move(target), on_waiting = std::move(on_waiting),
                   on_done = std::move(on_done)]() mutable {
    asio::co_spawn(io_, run(std::move(domain), std::move(target), std::move(on_waiting), std::move(on_done)),
                   asio::detached);
  });
}

void ProbeThread::sts_policy(std::string domain, OnPolicy on_done) {
  to_probe_thread([this, domain = std::move(domain), on_done = std::move(on_done)]() mutable {
    asio::co_spawn(io_, look_up_policy(std::move(domain), std::move(on_done)), asio::detached);
  });
}

asio::awaitable<void> ProbeThread::look_up_policy(std::string domain, OnPolicy on_done) {
  std::optional<sts::CachedPolicy> found;
  try {
    if (auto* sts = sts_.resolver.get()) {
      // A probe of the domain may have looked it up moments ago: its entry serves.
      const sts::CachedPolicy* entry = sts->cache().find(domain);
      if (!entry || std::time(nullptr) - entry->checked_at >= sts->settings().recheck_seconds) {
        co_await sts->lookup(domain);
        entry = sts->cache().find(domain);
      }
      if (entry) found = *entry;
    }
  } catch (const std::exception& e) {  // a fault of ours: answered as without a policy, asked again later
    log::error("socketmap: MTA-STS lookup of " + sanitize(domain) + " failed: " + e.what());
  }
  to_answering_thread([on_done = std::move(on_done), found = std::move(found)]() mutable { on_done(std::move(found)); });
}

void ProbeThread::reconfigure(const ProbeConfig& config) {
  asio::post(io_, [this, config] { prober_.reconfigure(config); });
}

asio::awaitable<void> ProbeThread::run(std::string domain, Target target, OnWaiting on_waiting, OnDone on_done) {
  JudgedProbe judged;
  try {
    // The notice goes to the answering thread, which owns the slots.
    std::function<void()> waiting = [this, &on_waiting] {
      if (on_waiting) to_answering_thread(std::exchange(on_waiting, nullptr));
    };
    const auto started = std::chrono::steady_clock::now();
    const DestinationProbe probe = co_await prober_.probe(target, std::move(waiting));
    judged = judge_probe(domain, probe, profile_, sts_.resolver ? &sts_.judging : nullptr);
    judged.took = std::chrono::steady_clock::now() - started;
  } catch (const std::exception& e) {  // per-host faults are values; this is the destination's own step
    judged = JudgedProbe{};
    judged.domain = domain;
    judged.error = e.what();
  }
  to_answering_thread([on_done = std::move(on_done), judged = std::move(judged)]() mutable { on_done(std::move(judged)); });
}

}  // namespace mxtls
