#include "engine/sts_policies.h"

#include <ctime>

#include "log/logger.h"

namespace mxtls {

StsPolicies::StsPolicies(asio::io_context& answering, ProbeThread& probes, std::chrono::seconds recheck,
                         std::chrono::milliseconds wait_limit)
    : io_(answering), probes_(probes), recheck_(recheck), wait_limit_(wait_limit) {}

const sts::CachedPolicy* StsPolicies::peek(const std::string& domain) {
  const sts::CachedPolicy* entry = cache_.find(domain);
  if (entry && std::time(nullptr) - entry->checked_at >= recheck_.count()) ask(domain);
  return entry;
}

asio::awaitable<const sts::CachedPolicy*> StsPolicies::current(const std::string& domain) {
  if (const sts::CachedPolicy* entry = peek(domain)) co_return entry;
  if (ask(domain) == Ask::full) co_return nullptr;
  auto timer = std::make_shared<asio::steady_timer>(io_, wait_limit_);
  asked_[domain].push_back(timer);
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {  // waited long enough: the lookup goes on, and fills the cache for later answers
    if (const auto it = asked_.find(domain); it != asked_.end()) std::erase(it->second, timer);
    co_return nullptr;
  }
  co_return cache_.find(domain);
}

StsPolicies::Ask StsPolicies::ask(const std::string& domain) {
  if (asked_.count(domain)) return Ask::already;
  if (asked_.size() >= kMaxPolicyLookups) {
    if (const auto n = full_log_.note())
      log::warning("socketmap: " + std::to_string(kMaxPolicyLookups) + " MTA-STS lookups already out; " +
                   std::to_string(n) + " answers given without waiting for a policy");
    return Ask::full;
  }
  asked_[domain];
  probes_.sts_policy(domain, [this, domain](std::optional<sts::CachedPolicy> entry) { arrived(domain, std::move(entry)); });
  return Ask::started;
}

void StsPolicies::arrived(const std::string& domain, std::optional<sts::CachedPolicy> entry) {
  if (entry) cache_.put(domain, std::move(*entry), std::time(nullptr));
  const auto it = asked_.find(domain);
  if (it == asked_.end()) return;
  for (const auto& timer : it->second) timer->cancel();
  asked_.erase(it);
}

}  // namespace mxtls
