#include "sts/resolver.h"

#include <ctime>

#include "dns/rdata.h"
#include "sts/record.h"

namespace mxtls::sts {

const CachedPolicy* PolicyCache::find(const std::string& domain) const {
  const auto it = entries_.find(domain);
  return it == entries_.end() ? nullptr : &it->second;
}

const CachedPolicy* PolicyCache::in_force(const std::string& domain, int64_t now) const {
  const auto* e = find(domain);
  return e && e->policy && e->expires_at > now ? e : nullptr;
}

void PolicyCache::put(const std::string& domain, CachedPolicy entry, int64_t now) {
  if (entries_.size() >= kMaxCachedDomains && !entries_.count(domain)) make_room(now);
  entries_[domain] = std::move(entry);
}

void PolicyCache::make_room(int64_t now) {
  // First what no longer holds a policy in force, then anything.
  std::erase_if(entries_, [now](const auto& kv) { return !kv.second.policy || kv.second.expires_at <= now; });
  while (entries_.size() >= kMaxCachedDomains) entries_.erase(entries_.begin());
}

StsResolver::StsResolver(asio::io_context& io, dns::Resolver& resolver, const ResolverSettings& settings)
    : resolver_(resolver), settings_(settings), fetcher_(io, resolver, settings.fetch) {}

asio::awaitable<Lookup> StsResolver::lookup(const std::string& domain) {
  Lookup out;
  out.checked = true;
  out.policy_url = "https://mta-sts." + domain + "/.well-known/mta-sts.txt";
  const std::string txt_name = "_mta-sts." + domain;  // named: GCC 12 mis-destroys temporaries in co_await
  const auto answer = co_await resolver_.query(txt_name, dns::kTypeTXT);
  const int64_t now = std::time(nullptr);
  const CachedPolicy* cached = cache_.in_force(domain, now);
  const auto use_cached = [&] {
    out.policy = cached->policy;
    out.cached = true;
    out.fetched_at = cached->fetched_at;
    out.expires_at = cached->expires_at;
    if (out.id.empty()) out.id = cached->id;
  };
  // Remember the check: the cached policy when one is in force, else "none".
  const auto remember = [&] {
    CachedPolicy entry = cached ? *cached : CachedPolicy{};
    entry.checked_at = now;
    cache_.put(domain, std::move(entry), now);
  };
  const auto finish = [&] {
    if (cached) use_cached();
    remember();
  };

  if (answer.status == dns::Status::servfail || answer.status == dns::Status::timeout) {
    out.problem = Reason::sts_policy_fetch_failed;
    out.problem_detail = "_mta-sts." + domain + " TXT: " + answer.detail;
    finish();
    co_return out;
  }
  std::vector<std::string> records;
  if (answer.status == dns::Status::ok)
    for (const auto& rdata : answer.rdata)
      if (auto text = dns::parse_txt(rdata)) records.push_back(std::move(*text));
  const auto selection = select_record(records);
  out.record = selection.text;
  if (selection.status == Discovery::none) {
    finish();
    co_return out;
  }
  if (selection.status == Discovery::invalid) {
    out.problem = Reason::sts_policy_invalid;
    out.problem_detail = selection.detail;
    finish();
    co_return out;
  }
  out.id = selection.record.id;
  if (cached && cached->id == out.id) {
    finish();
    co_return out;
  }
  const auto fetched = co_await fetcher_.fetch(domain);
  out.policy_address = fetched.address;
  const int64_t fetched_at = std::time(nullptr);
  cached = cache_.in_force(domain, fetched_at);  // the fetch took time: look again
  if (!fetched.ok) {
    out.problem = fetched.failure;
    out.problem_detail = fetched.detail;
    finish();
    co_return out;
  }
  auto parsed = parse_policy(fetched.body);
  if (!parsed.policy) {
    out.problem = Reason::sts_policy_invalid;
    out.problem_detail = "policy at " + out.policy_url + ": " + parsed.error;
    finish();
    co_return out;
  }
  out.policy = std::move(parsed.policy);
  out.fetched_at = fetched_at;
  out.expires_at = fetched_at + out.policy->max_age;
  cache_.put(domain, CachedPolicy{out.id, out.policy, out.fetched_at, out.expires_at, fetched_at}, fetched_at);
  co_return out;
}

}  // namespace mxtls::sts
