#include "store/open_store.h"

#include <filesystem>

#include "store/sqlite_store.h"

namespace mxtls {

std::unique_ptr<VerdictStore> open_store(const StoreConfig& config, StoreAccess access) {
  if (config.backend == "none") return nullptr;
  if (config.backend == "sqlite") {
    std::error_code ec;
    if (access == StoreAccess::existing && !std::filesystem::exists(config.path, ec)) return nullptr;
    return std::make_unique<SqliteStore>(config.path);
  }
  throw StoreError("store.backend: unknown backend '" + config.backend + "'");
}

std::string describe_store(const StoreConfig& config) {
  return config.backend == "sqlite" ? config.path : "store.backend = " + config.backend;
}

}  // namespace mxtls
