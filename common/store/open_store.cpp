#include "store/open_store.h"

#include <filesystem>
#include <fstream>

#include "config/socket_address.h"
#include "store/redis_store.h"
#include "store/sqlite_store.h"
#include "util/split.h"

namespace mxtls {
namespace {

// The first line of the password file; errors name the key, never the password.
std::string read_password(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw ConfigError("store.redis_password_file: cannot read " + path);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

RedisTarget redis_target(const StoreConfig& c) {
  RedisTarget t;
  t.sentinels = split_list(c.redis_sentinels);
  t.sentinel_master = c.redis_sentinel_master;
  if (t.sentinels.empty()) t.server = parse_socket_address(c.redis, "store.redis");
  for (const auto& s : t.sentinels) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || s.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
        colon + 1 == s.size())
      throw ConfigError("store.redis_sentinels: '" + s + "' is not host:port");
  }
  if (!c.redis_password_file.empty()) t.password = read_password(c.redis_password_file);
  t.database = c.redis_database;
  t.prefix = c.redis_prefix;
  t.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.redis_timeout.value);
  return t;
}

void check_store_config(const StoreConfig& config) {
  if (config.backend == "redis") redis_target(config);
}

std::unique_ptr<VerdictStore> open_store(const StoreConfig& config, StoreAccess access) {
  if (config.backend == "none") return nullptr;
  if (config.backend == "sqlite") {
    std::error_code ec;
    if (access == StoreAccess::existing && !std::filesystem::exists(config.path, ec)) return nullptr;
    return std::make_unique<SqliteStore>(config.path);
  }
  if (config.backend == "redis") return std::make_unique<RedisStore>(redis_target(config));
  throw StoreError("store.backend: unknown backend '" + config.backend + "'");
}

std::string set_aside_store(const StoreConfig& config) {
  if (config.backend == "sqlite") return SqliteStore::set_aside(config.path);
  throw StoreError("store.backend = " + config.backend + ": nothing to set aside");
}

std::string describe_store(const StoreConfig& config) {
  if (config.backend == "sqlite") return config.path;
  if (config.backend == "redis")
    return config.redis_sentinels.empty() ? "redis " + config.redis : "redis master " + config.redis_sentinel_master;
  return "store.backend = " + config.backend;
}

}  // namespace mxtls
