#include "store/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace mxtls {
namespace {

// Probe history members: "SEQUENCE|" then each field as "LENGTH:BYTES"
// (kFieldNames, then the facts when a record keeps them:
// store/probe_record.h). The sequence (from INCRBY) keeps members unique
// and, zero-padded, orders probes of the same second as they were recorded.
// Releases before facts in history skip a member with them, as malformed.
constexpr std::size_t kMaxField = 65536;

void append_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
}

std::vector<std::string> verdict_fields(const StoredVerdict& v) {
  return {v.domain, std::string(reason_code(v.reason)), std::string(severity_name(v.severity)),
          std::string(outcome_name(v.outcome)), v.level, v.mx, v.tls, v.detail,
          std::to_string(v.probed_at), std::to_string(v.expires_at)};
}

constexpr std::array<const char*, 10> kFieldNames{"domain", "reason", "severity", "outcome", "level",
                                                  "mx", "tls", "detail", "probed_at", "expires_at"};

constexpr const char* kFactsField = "facts";

int64_t to_int(std::string_view s) {
  int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// The record another instance wrote, read back; nullopt when malformed
// (a member is skipped, never trusted into a crash).
std::optional<StoredVerdict> verdict_from(const std::vector<std::string_view>& f) {
  if (f.size() != kFieldNames.size() && f.size() != kFieldNames.size() + 1) return std::nullopt;
  StoredVerdict v;
  v.domain = std::string(f[0]);
  v.reason = reason_from_code(f[1]).value_or(Reason::handshake_failed);
  v.severity = severity_from_name(f[2]).value_or(Severity::unreachable);
  v.outcome = outcome_from_name(f[3]).value_or(Outcome::deferred);
  v.level = std::string(f[4]);
  v.mx = std::string(f[5]);
  v.tls = std::string(f[6]);
  v.detail = std::string(f[7]);
  v.probed_at = to_int(f[8]);
  v.expires_at = to_int(f[9]);
  if (f.size() > kFieldNames.size()) v.facts = std::string(f[10]);
  return v;
}

std::optional<StoredVerdict> decode_member(std::string_view member) {
  const auto bar = member.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  member.remove_prefix(bar + 1);
  std::vector<std::string_view> fields;
  while (!member.empty() && fields.size() <= kFieldNames.size()) {
    std::size_t len = 0;
    const auto colon = member.find(':');
    const auto r = std::from_chars(member.data(), member.data() + std::min(colon, member.size()), len);
    if (colon == std::string_view::npos || r.ptr != member.data() + colon || len > kFieldNames.size() * kMaxField ||
        len > member.size() - colon - 1)
      return std::nullopt;
    fields.push_back(member.substr(colon + 1, len));
    member.remove_prefix(colon + 1 + len);
  }
  if (!member.empty()) return std::nullopt;
  return verdict_from(fields);
}

std::string probe_member(long long seq, const StoredVerdict& v) {
  char padded[24];
  std::snprintf(padded, sizeof padded, "%020lld|", seq);
  std::string member = padded;
  for (const auto& f : verdict_fields(v)) append_field(member, f);
  if (!v.facts.empty()) append_field(member, v.facts);
  return member;
}

std::string_view text(const redisReply* r) { return reply_text(r); }

}  // namespace

RedisStore::RedisStore(RedisTarget target) : conn_(std::move(target)) { conn_.connect(); }

RedisStore::Reply RedisStore::command(const std::vector<std::string>& args) { return conn_.command(args); }

std::string RedisStore::key(const std::string& kind, const std::string& domain) const { return conn_.key(kind, domain); }

void RedisStore::put(const StoredVerdict& v) { write({v}, {}); }

void RedisStore::queue_verdict(const StoredVerdict& v) {
  const std::string k = key("verdict", v.domain);
  std::vector<std::string> args{"HSET", k};
  const auto values = verdict_fields(v);
  for (std::size_t i = 0; i < values.size(); ++i) {
    args.emplace_back(kFieldNames[i]);
    args.push_back(values[i]);
  }
  // The probe's facts: with the verdict only, never in the history members.
  args.emplace_back(kFactsField);
  args.push_back(v.facts);
  command(args);
  command({"SADD", key("verdicts"), v.domain});
  if (v.expires_at > 0) command({"EXPIREAT", k, std::to_string(v.expires_at)});
  else command({"PERSIST", k});
  command({"PUBLISH", key(kPublishedChannel), v.domain});
}

std::optional<StoredVerdict> verdict_from_hash(const std::vector<std::string>& pairs) {
  if (pairs.empty()) return std::nullopt;
  std::vector<std::string_view> fields(kFieldNames.size());
  std::string_view facts;
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    for (std::size_t f = 0; f < kFieldNames.size(); ++f)
      if (pairs[i] == kFieldNames[f]) fields[f] = pairs[i + 1];
    if (pairs[i] == kFactsField) facts = pairs[i + 1];
  }
  auto v = verdict_from(fields);
  if (v) v->facts = std::string(facts);
  return v;
}

std::optional<StoredVerdict> RedisStore::get(const std::string& domain) {
  const auto r = command({"HGETALL", key("verdict", domain)});
  if (r->type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<std::string> pairs;
  for (std::size_t i = 0; i < r->elements; ++i) pairs.emplace_back(text(r->element[i]));
  return verdict_from_hash(pairs);
}

void RedisStore::for_each(const std::function<void(const StoredVerdict&)>& visit) {
  const auto members = command({"SMEMBERS", key("verdicts")});
  std::vector<std::string> domains;
  for (std::size_t i = 0; members->type == REDIS_REPLY_ARRAY && i < members->elements; ++i)
    domains.emplace_back(text(members->element[i]));
  std::sort(domains.begin(), domains.end());
  for (const auto& d : domains) {
    if (const auto v = get(d)) visit(*v);
    else command({"SREM", key("verdicts"), d});  // expired with its TTL: drop it from the index
  }
}

bool RedisStore::forget(const std::string& domain) {
  command({"SREM", key("verdicts"), domain});
  return command({"DEL", key("verdict", domain)})->integer > 0;
}

std::size_t RedisStore::flush() {
  std::size_t n = 0;
  for_each([&](const StoredVerdict& v) { n += forget(v.domain) ? 1 : 0; });
  return n;
}

void RedisStore::record_probe(const StoredVerdict& v) { write({}, {v}); }

void RedisStore::for_each_probe(int64_t since, const std::function<void(const StoredVerdict&)>& visit) {
  const auto r = command({"ZRANGEBYSCORE", key("probes"), std::to_string(since), "+inf"});
  for (std::size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i)
    if (const auto v = decode_member(text(r->element[i]))) visit(*v);
}

std::size_t RedisStore::prune_history(int64_t before) {
  return static_cast<std::size_t>(command({"ZREMRANGEBYSCORE", key("probes"), "-inf", "(" + std::to_string(before)})->integer);
}

std::size_t RedisStore::history_size() { return static_cast<std::size_t>(command({"ZCARD", key("probes")})->integer); }

void RedisStore::write(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& probes) {
  // The probe records' sequence numbers first: inside MULTI, INCRBY only answers QUEUED.
  auto seq = probes.empty() ? 0
                            : command({"INCRBY", key("probe-seq"), std::to_string(probes.size())})->integer -
                                  static_cast<long long>(probes.size());
  command({"MULTI"});
  for (const auto& v : verdicts) queue_verdict(v);
  for (const auto& v : probes) command({"ZADD", key("probes"), std::to_string(v.probed_at), probe_member(++seq, v)});
  const auto done = command({"EXEC"});
  if (done->type != REDIS_REPLY_ARRAY) throw StoreError(conn_.where() + ": write: transaction aborted");
  // Behind Sentinel a write counts once a replica has it: a failover
  // promotes a replica, and what only the old master held would be lost
  // when it rejoins as a replica. Not acknowledged, it is held and written
  // again (to the new master, once the old one refuses).
  if (!conn_.target().sentinels.empty()) {
    const auto timeout = std::to_string(conn_.target().timeout.count());
    const auto replicas = command({"WAIT", "1", timeout});
    if (replicas->type != REDIS_REPLY_INTEGER || replicas->integer < 1)
      throw StoreError(conn_.where() + ": write not yet on a replica after " + timeout + " ms (WAIT)");
  }
}

}  // namespace mxtls
