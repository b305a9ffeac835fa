#include "engine/scheduler.h"

#include <ctime>

#include "log/logger.h"
#include "log/sanitize.h"
#include "store/probe_record.h"

namespace mxtls {
Scheduler::Scheduler(asio::io_context& io, ProbeThread& probes, const ClientProfile& profile, const CacheConfig& config,
                     VerdictCache& cache, StoreWriter& writer, DaemonMetrics& metrics, Fleet* fleet)
    : io_(io), probes_(probes), profile_(profile), config_(config), cache_(cache), writer_(writer), metrics_(metrics),
      fleet_(fleet), sweep_timer_(io) {}

Scheduler::Request Scheduler::request(const std::string& domain) {
  if (pending_.count(domain)) return Request::already_pending;
  if (const auto it = backoff_.find(domain); it != backoff_.end() && std::chrono::steady_clock::now() < it->second.next_try)
    return Request::backing_off;
  if (const int waiting = static_cast<int>(queue_.size()) + waiting_shared_ + claiming_; waiting >= config_.max_queue) {
    log::warning("probe: queue full (" + std::to_string(waiting) + " waiting), not probing " + sanitize(domain) +
                 " now: engine overloaded, answering DUNNO");
    return Request::overloaded;
  }
  pending_.insert(domain);
  if (fleet_) {
    claim(domain);
    return Request::queued;
  }
  queue_.push_back(domain);
  pump();
  return Request::queued;
}

void Scheduler::claim(const std::string& domain) {
  ++claiming_;
  // A verdict due for refresh in the fleet is due here too: not taken.
  const int64_t fresh_after =
      std::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(config_.refresh_margin.value).count();
  fleet_->claim(domain, fresh_after, [this, domain](FleetClaim c) { claimed(domain, std::move(c)); });
}

void Scheduler::claimed(const std::string& domain, FleetClaim claim) {
  --claiming_;
  switch (claim.outcome) {
    case FleetClaim::Outcome::probe:
      queue_.push_back(domain);
      pump();
      return;
    case FleetClaim::Outcome::adopted: {
      const auto& v = *claim.verdict;
      cache_.put(v);
      backoff_.erase(domain);
      // The probe line's shape: another instance probed it (source=fleet).
      log::info("fleet: domain=" + sanitize(domain) + ", source=fleet, mx=" + sanitize(v.mx) +
                ", verdict=" + std::string(severity_name(v.severity)) + ", reason=" + std::string(reason_code(v.reason)) +
                ", outcome=" + std::string(outcome_name(v.outcome)) +
                ", age=" + std::to_string(std::max<int64_t>(0, std::time(nullptr) - v.probed_at)) + "s");
      break;
    }
    case FleetClaim::Outcome::gave_up:
      break;
  }
  pending_.erase(domain);
  wake(domain);
}

void Scheduler::wake(const std::string& domain) {
  if (const auto it = waiters_.find(domain); it != waiters_.end()) {
    for (auto& timer : it->second) timer->cancel();
    waiters_.erase(it);
  }
}

void Scheduler::pump() {
  while (running_ < config_.max_parallel && !queue_.empty()) {
    std::string domain = std::move(queue_.front());
    queue_.pop_front();
    launch(domain);
  }
}

void Scheduler::launch(const std::string& domain) {
  // Callers pass a mail domain or the [host]:port relayhost, both validated.
  auto parsed = parse_target(domain);
  if (!parsed.target) {
    log::error("probe: domain=" + sanitize(domain) + ", not a probe target: " + parsed.error);
    if (fleet_) fleet_->released(domain);
    pending_.erase(domain);
    return;
  }
  ++running_;
  holds_slot_[domain] = true;
  probes_.probe(domain, std::move(*parsed.target), [this, domain] { give_up_slot(domain); },
                [this](JudgedProbe judged) { finished(std::move(judged)); });
}

void Scheduler::give_up_slot(const std::string& domain) {
  const auto it = holds_slot_.find(domain);
  if (it == holds_slot_.end() || !it->second) return;
  it->second = false;
  --running_;
  ++waiting_shared_;
  pump();
}

void Scheduler::finished(JudgedProbe judged) {
  const std::string domain = judged.domain;
  if (fleet_) fleet_->released(domain);
  if (judged.error.empty()) {
    record(judged);
  } else {
    log::error("probe: domain=" + sanitize(domain) + ", internal error: " + judged.error);
    pending_.erase(domain);
  }
  if (const auto it = holds_slot_.find(domain); it != holds_slot_.end()) {
    if (it->second) --running_;
    else --waiting_shared_;
    holds_slot_.erase(it);
  }
  pump();
}

void Scheduler::record(JudgedProbe& judged) {
  const std::string& domain = judged.domain;
  StoredVerdict& stored = judged.stored;
  metrics_.probe(stored.severity, stored.reason, judged.took);
  // Transport outcomes (connect, DNS, timeout, null MX...) say nothing about
  // TLS: back off and try again later instead of caching them.
  const bool is_verdict = cacheable(stored);
  note_reachability(domain, judged.where, stored.reason, !is_verdict);
  if (is_verdict) {
    stored.expires_at = expiry_of(stored, config_);
    cache_.put(stored, judged.dane);
    backoff_.erase(domain);
  } else {
    auto& b = backoff_[domain];
    // Our own outage says nothing about the destination: no growing backoff.
    b.interval = b.interval.count() == 0 || local_.suspected() ? config_.backoff_min.value
                                                               : std::min(b.interval * 2, config_.backoff_max.value);
    b.next_try = std::chrono::steady_clock::now() + b.interval;
  }
  writer_.save(std::move(stored), is_verdict);
  pending_.erase(domain);
  wake(domain);
}

void Scheduler::note_reachability(const std::string& domain, const std::string& where, Reason reason,
                                  bool transport_failure) {
  const auto now = std::chrono::steady_clock::now();
  switch (local_.note(where, transport_failure, reason, now)) {
    case LocalProblemDetector::Change::started:
      log::warning("local problem suspected: " + local_.summary() +
                   ": most likely our own network or resolver, not the destinations; their failures are not backed "
                   "off further until a probe reaches a server");
      break;
    case LocalProblemDetector::Change::ended:
      log::info("local problem over: " + sanitize(domain) + " reached after " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - local_.since()).count()) +
                "s; the " + std::to_string(backoff_.size()) + " destinations backed off meanwhile are probed again when asked");
      backoff_.clear();
      break;
    case LocalProblemDetector::Change::none:
      break;
  }
}

asio::awaitable<void> Scheduler::wait_for(const std::string& domain, std::chrono::milliseconds wait) {
  if (!pending_.count(domain) || wait.count() <= 0) co_return;
  auto timer = std::make_shared<asio::steady_timer>(io_, wait);
  waiters_[domain].push_back(timer);
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {  // timed out: stop listening for this domain's probe
    auto& list = waiters_[domain];
    std::erase(list, timer);
    if (list.empty()) waiters_.erase(domain);
  }
}

void Scheduler::start() { sweep(); }

void Scheduler::sweep() {
  // Refresh verdicts that expire within refresh_margin, so the hot path
  // rarely sees a stale one.
  const int64_t horizon = std::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(config_.refresh_margin.value).count();
  std::vector<std::string> due;
  cache_.for_each([&](const std::string& domain, const CachedVerdict& v) {
    if (v.expires_at <= horizon) due.push_back(domain);
  });
  for (const auto& d : due) request(d);
  // Forget backoffs long past, so the map does not grow without bound.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(backoff_, [&](const auto& kv) { return kv.second.next_try + config_.backoff_max.value < now; });
  sweep_timer_.expires_after(std::chrono::minutes(1));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sweep();
  });
}

}  // namespace mxtls
