// Applies owner, group and mode to a unix socket the daemons created.
// Resolving the names operators write in mxtls.conf is configuration's job
// (config/socket_access.h), done before start so --check-config catches it.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>

namespace mxtls {

struct SocketPermissions {
  std::optional<mode_t> mode;
  std::optional<uid_t> owner;
  std::optional<gid_t> group;
};

// What could not be applied: the mode (chmod) or the ownership (chown).
struct SocketPermissionFailure {
  bool ownership = false;
  std::string message;  // names the call, the path and the system's reason
};

std::optional<SocketPermissionFailure> apply_socket_permissions(const std::string& path, const SocketPermissions& perms);

}  // namespace mxtls
