#include "store/redis_connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>

#include "store/store.h"

namespace mxtls {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

int to_port(std::string_view s) {
  int n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

}  // namespace

std::string_view reply_text(const redisReply* r) {
  return r && r->str ? std::string_view(r->str, r->len) : std::string_view();
}

void RedisConnection::ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

RedisConnection::RedisConnection(RedisTarget target) : target_(std::move(target)) {
  where_ = target_.sentinels.empty() ? "redis " + target_.server.text : "redis master " + target_.sentinel_master;
}

RedisConnection::~RedisConnection() { disconnect(); }

void RedisConnection::disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

std::string RedisConnection::key(std::string_view kind, std::string_view domain) const {
  std::string k = target_.prefix;
  k += kind;
  if (!domain.empty()) {
    k += ':';
    k += domain;
  }
  return k;
}

std::string RedisConnection::master_address(int& port) {
  const timeval tv = to_timeval(target_.timeout);
  std::string errors;
  for (const auto& sentinel : target_.sentinels) {
    const auto colon = sentinel.rfind(':');
    const std::string host = sentinel.substr(0, colon);
    redisContext* c = redisConnectWithTimeout(host.c_str(), to_port(sentinel.substr(colon + 1)), tv);
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
      port = to_port(reply_text(r->element[1]));
      return std::string(reply_text(r->element[0]));
    }
    errors += " " + sentinel + ": no master '" + target_.sentinel_master + "';";
  }
  throw StoreError(where_ + ": no sentinel named the master:" + errors);
}

void RedisConnection::connect() {
  disconnect();
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
    disconnect();
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
      const std::string why = r ? std::string(reply_text(r.get())) : std::string(ctx_->errstr);
      disconnect();
      throw StoreError(where_ + ": " + std::string(what) + " failed: " + why);
    }
    return r;
  };
  if (!target_.password.empty()) setup({"AUTH", target_.password}, "AUTH");
  if (target_.database != 0) setup({"SELECT", std::to_string(target_.database)}, "SELECT");
  if (!target_.sentinels.empty()) {
    const auto role = setup({"ROLE"}, "ROLE");
    if (role->type != REDIS_REPLY_ARRAY || role->elements == 0 || reply_text(role->element[0]) != "master") {
      disconnect();
      throw StoreError(where_ + ": " + server + " is not a master (a failover in progress)");
    }
  }
}

RedisConnection::Reply RedisConnection::command(const std::vector<std::string>& args) {
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
      disconnect();
    } else if (r->type == REDIS_REPLY_ERROR) {
      why = std::string(reply_text(r.get()));
      if (!why.starts_with("READONLY")) throw StoreError(where_ + ": " + args[0] + ": " + why);
      disconnect();  // the master we knew is a replica now: ask the sentinels again
    } else {
      return r;
    }
    if (attempt == 1) throw StoreError(where_ + ": " + args[0] + ": " + why);
  }
}

RedisConnection::Reply RedisConnection::next_message(std::chrono::milliseconds wait, int wake_fd) {
  if (!ctx_) throw StoreError(where_ + ": not subscribed");
  void* parsed = nullptr;
  if (redisGetReplyFromReader(ctx_, &parsed) != REDIS_OK) {
    disconnect();
    throw StoreError(where_ + ": subscription: malformed reply");
  }
  if (parsed) return Reply(static_cast<redisReply*>(parsed));
  pollfd fds[2] = {{ctx_->fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const int n = poll(fds, wake_fd < 0 ? 1 : 2, static_cast<int>(wait.count()));
  if (n == 0 || (n < 0 && errno == EINTR) || (n > 0 && fds[0].revents == 0)) return nullptr;
  if (n < 0 || redisBufferRead(ctx_) != REDIS_OK || redisGetReplyFromReader(ctx_, &parsed) != REDIS_OK) {
    const std::string why = ctx_->err ? ctx_->errstr : "connection lost";
    disconnect();
    throw StoreError(where_ + ": subscription: " + why);
  }
  return Reply(static_cast<redisReply*>(parsed));
}

}  // namespace mxtls
