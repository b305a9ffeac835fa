#include "engine/fleet.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <unistd.h>

#include <ctime>

#include "log/logger.h"
#include "store/redis_store.h"

namespace mxtls {
namespace {

std::string host_and_process() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

Fleet::Fleet(asio::io_context& io, RedisTarget target, std::string level, std::chrono::milliseconds lease)
    : io_(io), level_(std::move(level)), lease_(lease), holder_(host_and_process()), commands_(target),
      subscription_(std::move(target)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw StoreError("fleet: pipe failed");
  thread_ = std::thread([this] { run(); });
}

Fleet::~Fleet() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  (void)!write(wake_[1], "x", 1);
  thread_.join();
  close(wake_[0]);
  close(wake_[1]);
}

void Fleet::claim(const std::string& domain, int64_t fresh_after, Done done) {
  {
    std::lock_guard lock(mutex_);
    claims_.push_back({domain, fresh_after, std::move(done)});
  }
  (void)!write(wake_[1], "x", 1);
}

void Fleet::released(const std::string& domain) {
  {
    std::lock_guard lock(mutex_);
    releases_.push_back(domain);
  }
  (void)!write(wake_[1], "x", 1);
}

void Fleet::count(std::uint64_t FleetCounters::*field) {
  std::lock_guard lock(mutex_);
  ++(counters_.*field);
}

FleetCounters Fleet::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void Fleet::finish(Done done, FleetClaim result) {
  asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

void Fleet::run() {
  bool ever_reached = false;
  for (;;) {
    std::deque<Claim> claims;
    std::vector<std::string> releases;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      claims.swap(claims_);
      releases.swap(releases_);
    }
    const auto now = std::chrono::steady_clock::now();
    if (!reachable_ && now >= next_attempt_) {
      try {
        reach();
        reachable_ = true;
        log::info(std::string("fleet: ") + (ever_reached ? "reachable again, " : "") + commands_.where() +
                  ": probes shared with the instances on it (lease " + std::to_string(lease_.count() / 1000) + "s)");
        ever_reached = true;
      } catch (const StoreError& e) {
        lost(e.what());
      }
    }
    for (auto& c : claims) handle(std::move(c));
    for (const auto& domain : releases) held_.erase(domain);
    if (reachable_ && !held_.empty() && std::chrono::steady_clock::now() >= next_renewal_) renew_leases();
    expire_waits();

    // Sleep until a claim, a published verdict, a lease running out or a
    // reconnection is due.
    auto wait = std::chrono::milliseconds(1000);
    for (const auto& [domain, w] : waiting_)
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(w.until - std::chrono::steady_clock::now()));
    if (!held_.empty())
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(next_renewal_ - std::chrono::steady_clock::now()));
    wait = std::max(wait, std::chrono::milliseconds(1));
    if (reachable_) {
      try {
        while (const auto message = subscription_.next_message(wait, wake_[0])) {
          // ["message", channel, domain]
          if (message->type == REDIS_REPLY_ARRAY && message->elements == 3 &&
              reply_text(message->element[0]) == "message")
            published(std::string(reply_text(message->element[2])));
          wait = std::chrono::milliseconds(0);
        }
      } catch (const StoreError& e) {
        lost(e.what());
      }
    } else {
      pollfd readable{wake_[0], POLLIN, 0};
      poll(&readable, 1, static_cast<int>(wait.count()));
    }
    char drain[64];
    while (read(wake_[0], drain, sizeof drain) > 0) {
    }
  }
}

void Fleet::reach() {
  commands_.connect();
  subscription_.connect();
  subscription_.command({"SUBSCRIBE", subscription_.key(RedisStore::kPublishedChannel)});
}

void Fleet::lost(const std::string& why) {
  if (reachable_ || next_attempt_ == std::chrono::steady_clock::time_point{})
    log::warning("fleet: " + why + ": each instance probes for itself until Redis is back");
  reachable_ = false;
  next_attempt_ = std::chrono::steady_clock::now() + kRetryInterval;
  commands_.disconnect();
  subscription_.disconnect();
  // Those waiting for another instance's verdict probe for themselves.
  for (auto& [domain, w] : waiting_)
    for (auto& done : w.done) finish(std::move(done), {FleetClaim::Outcome::probe, std::nullopt});
  waiting_.clear();
  held_.clear();  // their leases run out in Redis
}

std::optional<StoredVerdict> Fleet::fresh_verdict(const std::string& domain, int64_t fresh_after) {
  const auto r = commands_.command({"HGETALL", commands_.key("verdict", domain)});
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) return std::nullopt;
  std::vector<std::string> fields;
  for (std::size_t i = 0; i < r->elements; ++i) fields.emplace_back(reply_text(r->element[i]));
  auto v = verdict_from_hash(fields);
  if (!v || v->domain != domain || v->level != level_ || v->expires_at <= fresh_after) return std::nullopt;
  return v;
}

void Fleet::handle(Claim claim) {
  if (!reachable_) {
    count(&FleetCounters::unreachable);
    finish(std::move(claim.done), {FleetClaim::Outcome::probe, std::nullopt});
    return;
  }
  try {
    if (auto v = fresh_verdict(claim.domain, claim.fresh_after)) {
      count(&FleetCounters::adopted);
      finish(std::move(claim.done), {FleetClaim::Outcome::adopted, std::move(v)});
      return;
    }
    if (const auto it = waiting_.find(claim.domain); it != waiting_.end()) {
      it->second.done.push_back(std::move(claim.done));
      return;
    }
    const auto lease_key = commands_.key("lease", claim.domain);
    const auto taken = commands_.command({"SET", lease_key, holder_, "NX", "PX", std::to_string(lease_.count())});
    if (taken->type == REDIS_REPLY_STATUS) {
      count(&FleetCounters::leases_taken);
      if (held_.empty()) next_renewal_ = std::chrono::steady_clock::now() + lease_ / 3;
      held_.emplace(claim.domain, std::chrono::steady_clock::now());
      finish(std::move(claim.done), {FleetClaim::Outcome::probe, std::nullopt});
      return;
    }
    // Held elsewhere. Its verdict may have come between the read and the SET.
    if (auto v = fresh_verdict(claim.domain, claim.fresh_after)) {
      count(&FleetCounters::adopted);
      finish(std::move(claim.done), {FleetClaim::Outcome::adopted, std::move(v)});
      return;
    }
    const auto left = commands_.command({"PTTL", lease_key});
    const auto ms = left->type == REDIS_REPLY_INTEGER && left->integer > 0 ? std::chrono::milliseconds(left->integer)
                                                                            : std::chrono::milliseconds(0);
    count(&FleetCounters::waited);
    auto& w = waiting_[claim.domain];
    w.fresh_after = claim.fresh_after;
    w.until = std::chrono::steady_clock::now() + ms;
    w.done.push_back(std::move(claim.done));
  } catch (const StoreError& e) {
    lost(e.what());
    count(&FleetCounters::unreachable);
    finish(std::move(claim.done), {FleetClaim::Outcome::probe, std::nullopt});
  }
}

void Fleet::published(const std::string& domain) {
  const auto it = waiting_.find(domain);
  if (it == waiting_.end()) return;
  auto v = fresh_verdict(domain, it->second.fresh_after);  // StoreError: the caller's lost()
  if (!v) return;
  for (auto& done : it->second.done) {
    count(&FleetCounters::adopted);
    finish(std::move(done), {FleetClaim::Outcome::adopted, v});
  }
  waiting_.erase(it);
}

void Fleet::renew_leases() {
  // Only while a lease is still this instance's, in one step.
  static const std::string kRenew =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
  const auto now = std::chrono::steady_clock::now();
  next_renewal_ = now + lease_ / 3;
  try {
    for (auto it = held_.begin(); it != held_.end();) {
      if (now - it->second > kMaxHold * lease_) {  // a probe that never ended: let its lease run out
        it = held_.erase(it);
        continue;
      }
      commands_.command({"EVAL", kRenew, "1", commands_.key("lease", it->first), holder_, std::to_string(lease_.count())});
      ++it;
    }
  } catch (const StoreError& e) {
    lost(e.what());
  }
}

// A wait ends when the lease does: while its holder renews it (its probe
// is queued or running), the wait goes on; once it is gone, the verdict is taken
// if it came (its announcement may have been missed), else given up.
void Fleet::expire_waits() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.until > now) {
      ++it;
      continue;
    }
    std::optional<StoredVerdict> verdict;
    try {
      const auto left = commands_.command({"PTTL", commands_.key("lease", it->first)});
      if (left->type == REDIS_REPLY_INTEGER && left->integer > 0) {
        it->second.until = now + std::chrono::milliseconds(left->integer);
        ++it;
        continue;
      }
      verdict = fresh_verdict(it->first, it->second.fresh_after);
    } catch (const StoreError& e) {
      lost(e.what());  // ends every wait
      return;
    }
    for (auto& done : it->second.done) {
      if (verdict) count(&FleetCounters::adopted);
      finish(std::move(done), verdict ? FleetClaim{FleetClaim::Outcome::adopted, verdict}
                                      : FleetClaim{FleetClaim::Outcome::gave_up, std::nullopt});
    }
    it = waiting_.erase(it);
  }
}

}  // namespace mxtls
