// Who may connect to a unix socket of ours, as mxtls.conf says it: a user
// name, a group name and an octal mode, resolved to ids when the
// configuration is loaded, so a bad value is a configuration error
// (exit 78, --check-config) and never a failure after start.
#pragma once
#include <string>

#include "util/socket_permissions.h"

namespace mxtls {

// `key_prefix` is the section, e.g. "policy."; errors name prefix + key
// (socket_owner, socket_group, socket_mode). Throws ConfigError.
SocketPermissions resolve_socket_access(const std::string& owner, const std::string& group, const std::string& mode,
                                        const std::string& key_prefix);

}  // namespace mxtls
