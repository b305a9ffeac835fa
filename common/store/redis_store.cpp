#include "store/redis_store.h"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace mxtls {
namespace {

// Probe history members: "SEQUENCE|" then each field as "LENGTH:BYTES".
// The sequence (from INCRBY) keeps members unique and, zero-padded, orders
// probes of the same second as they were recorded.
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

int64_t to_int(std::string_view s) {
  int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// The record another instance wrote, read back; nullopt when malformed
// (a member is skipped, never trusted into a crash).
std::optional<StoredVerdict> verdict_from(const std::vector<std::string_view>& f) {
  if (f.size() != kFieldNames.size()) return std::nullopt;
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
  return v;
}

std::optional<StoredVerdict> decode_member(std::string_view member) {
  const auto bar = member.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  member.remove_prefix(bar + 1);
  std::vector<std::string_view> fields;
  while (!member.empty() && fields.size() < kFieldNames.size()) {
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
  return member;
}

std::string_view text(const redisReply* r) { return r && r->str ? std::string_view(r->str, r->len) : std::string_view(); }

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

}  // namespace

void RedisStore::ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

RedisStore::RedisStore(RedisTarget target) : target_(std::move(target)) {
  where_ = target_.sentinels.empty() ? "redis " + target_.server.text : "redis master " + target_.sentinel_master;
  connect();
}

RedisStore::~RedisStore() {
  if (ctx_) redisFree(ctx_);
}

std::string RedisStore::master_address(int& port) {
  const timeval tv = to_timeval(target_.timeout);
  std::string errors;
  for (const auto& sentinel : target_.sentinels) {
    const auto colon = sentinel.rfind(':');
    const std::string host = sentinel.substr(0, colon);
    redisContext* c = redisConnectWithTimeout(host.c_str(), static_cast<int>(to_int(sentinel.substr(colon + 1))), tv);
    if (!c || c->err) {
      errors += " " + sentinel + ": " + (c ? c->errstr : "out of memory") + ";";
      if (c) redisFree(c);
      continue;
    }
    redisSetTimeout(c, tv);
    Reply r(static_cast<redisReply*>(
        redisCommand(c, "SENTINEL get-master-addr-by-name %s", target_.sentinel_master.c_str())));
    redisFree(c);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
      port = static_cast<int>(to_int(text(r->element[1])));
      return std::string(text(r->element[0]));
    }
    errors += " " + sentinel + ": no master '" + target_.sentinel_master + "';";
  }
  throw StoreError(where_ + ": no sentinel named the master:" + errors);
}

void RedisStore::connect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  const timeval tv = to_timeval(target_.timeout);
  std::string server;
  if (!target_.sentinels.empty()) {
    int port = 0;
    const std::string host = master_address(port);
    server = host + ":" + std::to_string(port);
    ctx_ = redisConnectWithTimeout(host.c_str(), port, tv);
  } else if (target_.server.unix_socket) {
    server = target_.server.path;
    ctx_ = redisConnectUnixWithTimeout(target_.server.path.c_str(), tv);
  } else {
    server = target_.server.address + ":" + std::to_string(target_.server.port);
    ctx_ = redisConnectWithTimeout(target_.server.address.c_str(), target_.server.port, tv);
  }
  if (!ctx_ || ctx_->err) {
    const std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    throw StoreError(where_ + ": cannot connect to " + server + ": " + why);
  }
  redisSetTimeout(ctx_, tv);
  const auto setup = [&](std::vector<std::string> args, std::string_view what) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r || r->type == REDIS_REPLY_ERROR) {
      const std::string why = r ? std::string(text(r.get())) : std::string(ctx_->errstr);
      redisFree(ctx_);
      ctx_ = nullptr;
      throw StoreError(where_ + ": " + std::string(what) + " failed: " + why);
    }
    return r;
  };
  if (!target_.password.empty()) setup({"AUTH", target_.password}, "AUTH");
  if (target_.database != 0) setup({"SELECT", std::to_string(target_.database)}, "SELECT");
  if (!target_.sentinels.empty()) {
    const auto role = setup({"ROLE"}, "ROLE");
    if (role->type != REDIS_REPLY_ARRAY || role->elements == 0 || text(role->element[0]) != "master") {
      redisFree(ctx_);
      ctx_ = nullptr;
      throw StoreError(where_ + ": " + server + " is not a master (a failover in progress)");
    }
  }
}

RedisStore::Reply RedisStore::command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  for (int attempt = 0;; ++attempt) {
    if (!ctx_) connect();
    Reply r(static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    std::string why;
    if (!r) {
      why = ctx_->errstr;
      redisFree(ctx_);
      ctx_ = nullptr;
    } else if (r->type == REDIS_REPLY_ERROR) {
      why = std::string(text(r.get()));
      if (!why.starts_with("READONLY")) throw StoreError(where_ + ": " + args[0] + ": " + why);
      redisFree(ctx_);  // the master we knew is a replica now: ask the sentinels again
      ctx_ = nullptr;
    } else {
      return r;
    }
    if (attempt == 1) throw StoreError(where_ + ": " + args[0] + ": " + why);
  }
}

std::string RedisStore::key(const std::string& kind, const std::string& domain) const {
  return target_.prefix + kind + (domain.empty() ? "" : ":" + domain);
}

void RedisStore::put(const StoredVerdict& v) { write({v}, {}); }

void RedisStore::queue_verdict(const StoredVerdict& v) {
  const std::string k = key("verdict", v.domain);
  std::vector<std::string> args{"HSET", k};
  const auto values = verdict_fields(v);
  for (std::size_t i = 0; i < values.size(); ++i) {
    args.emplace_back(kFieldNames[i]);
    args.push_back(values[i]);
  }
  command(args);
  command({"SADD", key("verdicts"), v.domain});
  if (v.expires_at > 0) command({"EXPIREAT", k, std::to_string(v.expires_at)});
  else command({"PERSIST", k});
}

std::optional<StoredVerdict> RedisStore::get(const std::string& domain) {
  const auto r = command({"HGETALL", key("verdict", domain)});
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) return std::nullopt;
  std::vector<std::string_view> fields(kFieldNames.size());
  for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
    const auto name = text(r->element[i]);
    for (std::size_t f = 0; f < kFieldNames.size(); ++f)
      if (name == kFieldNames[f]) fields[f] = text(r->element[i + 1]);
  }
  return verdict_from(fields);
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
  if (done->type != REDIS_REPLY_ARRAY) throw StoreError(where_ + ": write: transaction aborted");
}

}  // namespace mxtls
