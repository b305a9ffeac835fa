// Owner, group and mode for a unix socket the daemons create, as operators
// name them in mxtls.conf (user and group names, octal mode). Bad names or
// modes are configuration errors naming `key_prefix` + the key.
#pragma once
#include <string>

namespace mxtls {

struct SocketPermissions {
  std::string owner, group, mode;
};

// Throws ConfigError (bad value) or std::runtime_error (chmod/chown failed).
void apply_socket_permissions(const std::string& path, const SocketPermissions& perms, const std::string& key_prefix);

}  // namespace mxtls
