// Who may connect to a unix socket of ours, as mxtls.conf says it: a user
// name, a group name and an octal mode, resolved to ids when the
// configuration is loaded, so a bad value is a configuration error
// (exit 78, --check-config) and never a failure after start; and applied
// to the socket at start, where a value the daemon's user may not apply is
// a configuration error too.
#pragma once
#include <string>

#include "util/socket_permissions.h"

namespace mxtls {

struct SocketAccess {
  SocketPermissions permissions;
  std::string key_prefix;  // the section, e.g. "policy.": errors name its keys
};

// Errors name prefix + key (socket_owner, socket_group, socket_mode).
// Throws ConfigError.
SocketAccess resolve_socket_access(const std::string& owner, const std::string& group, const std::string& mode,
                                   const std::string& key_prefix);

// Applies `access` to a socket just created. Only root may give a file to
// another user, or to a group it is not in: a ConfigError naming the keys,
// since only the configuration (or the daemon's user) can fix it.
void apply_socket_access(const std::string& path, const SocketAccess& access);

}  // namespace mxtls
