// The one place that turns [store] into a VerdictStore: every caller (the
// daemon, `mxtls cache`, `mxtls report`, the store test suite) opens its
// store here and sees only the interface, so a backend is added in one file.
#pragma once
#include <memory>
#include <string>

#include "config/config.h"
#include "store/redis_connection.h"
#include "store/store.h"

namespace mxtls {

enum class StoreAccess {
  create,    // the daemon: make the store if it is missing
  existing,  // the CLI (often run as root): never create one, which would lock the daemon's user out
};

// Checks what can be checked without opening the store (addresses, the
// password file). Throws ConfigError naming the key.
void check_store_config(const StoreConfig& config);

// Where [store] backend = redis points (the fleet opens connections of its
// own there). Throws ConfigError naming the key.
RedisTarget redis_target(const StoreConfig& config);

// nullptr when there is nothing to open: backend "none", or an `existing`
// store that is not there yet. Throws StoreError naming the store.
std::unique_ptr<VerdictStore> open_store(const StoreConfig& config, StoreAccess access);

// Moves a corrupt store out of the way (the daemon, not in use by it) so it
// can be made anew; the old data stays for an operator to salvage. Returns
// where it went. Throws StoreError.
std::string set_aside_store(const StoreConfig& config);

// The store as messages name it: its path, or "store.backend = none".
std::string describe_store(const StoreConfig& config);

}  // namespace mxtls
