#include "engine/scheduler.h"

#include <ctime>

#include "classify/classifier.h"
#include "log/logger.h"
#include "log/sanitize.h"
#include "classify/probe_log.h"

namespace mxtls {
namespace {

std::chrono::milliseconds ttl_for(Severity s, const CacheConfig& c) {
  switch (s) {
    case Severity::ok: return c.ttl_ok.value;
    case Severity::warning: return c.ttl_warning.value;
    default: return c.ttl_incompatible.value;
  }
}

}  // namespace

Scheduler::Scheduler(asio::io_context& io, Prober& prober, const ClientProfile& profile, const CacheConfig& config,
                     VerdictCache& cache, StoreWriter& writer, const sts::Judging* sts)
    : io_(io), prober_(prober), profile_(profile), sts_(sts), config_(config), cache_(cache), writer_(writer), sweep_timer_(io) {}

Scheduler::Request Scheduler::request(const std::string& domain) {
  if (pending_.count(domain)) return Request::already_pending;
  if (const auto it = backoff_.find(domain); it != backoff_.end() && std::chrono::steady_clock::now() < it->second.next_try)
    return Request::backing_off;
  if (static_cast<int>(queue_.size()) >= config_.max_queue) {
    log::warning("probe: queue full (" + std::to_string(queue_.size()) + " waiting), not probing " + sanitize(domain) +
                 " now: engine overloaded, answering DUNNO");
    return Request::overloaded;
  }
  pending_.insert(domain);
  queue_.push_back(domain);
  pump();
  return Request::queued;
}

void Scheduler::pump() {
  while (running_ < config_.max_parallel && !queue_.empty()) {
    std::string domain = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    asio::co_spawn(io_, probe_one(std::move(domain)), asio::detached);
  }
}

asio::awaitable<void> Scheduler::probe_one(std::string domain) {
  // Callers pass a mail domain or the [host]:port relayhost, both validated.
  if (const auto parsed = parse_target(domain); !parsed.target) {
    log::error("probe: domain=" + sanitize(domain) + ", not a probe target: " + parsed.error);
    pending_.erase(domain);
  } else {
    std::string error;
    try {
      DestinationProbe probe = co_await prober_.probe(*parsed.target);
      finish(domain, probe);
    } catch (const std::exception& e) {  // per-host faults are values; this is the destination's own step
      error = e.what();
    }
    if (!error.empty()) {
      log::error("probe: domain=" + sanitize(domain) + ", internal error: " + error);
      pending_.erase(domain);
    }
  }
  --running_;
  pump();
}

void Scheduler::finish(const std::string& domain, const DestinationProbe& probe) {
  auto verdict = classify_destination(probe, profile_);
  if (sts_) sts::apply_sts(probe, verdict, *sts_);
  for (const auto& line : format_probe_lines(probe, verdict, profile_)) log::info(line);

  StoredVerdict stored;
  stored.domain = domain;
  stored.reason = verdict.overall.reason;
  stored.severity = verdict.overall.severity;
  stored.outcome = verdict.overall.outcome;
  stored.level = std::string(level_name(profile_.level));
  stored.detail = verdict.overall.detail;
  stored.probed_at = std::time(nullptr);
  if (!probe.hosts.empty()) {
    const auto& mx = probe.hosts[verdict.decisive];
    stored.mx = format_mx(mx);
    if (mx.compat.ok) stored.tls = mx.compat.version;
  }
  // Transport outcomes (connect, DNS, timeout, null MX...) say nothing about
  // TLS: back off and try again later instead of caching them.
  const bool cacheable = verdict.overall.severity != Severity::unreachable;
  if (cacheable) {
    stored.expires_at = stored.probed_at + std::chrono::duration_cast<std::chrono::seconds>(ttl_for(stored.severity, config_)).count();
    cache_.put(stored);
    backoff_.erase(domain);
  } else {
    auto& b = backoff_[domain];
    b.interval = b.interval.count() == 0 ? config_.backoff_min.value : std::min(b.interval * 2, config_.backoff_max.value);
    b.next_try = std::chrono::steady_clock::now() + b.interval;
  }
  writer_.save(std::move(stored), cacheable);
  pending_.erase(domain);
  if (const auto it = waiters_.find(domain); it != waiters_.end()) {
    for (auto& timer : it->second) timer->cancel();
    waiters_.erase(it);
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
