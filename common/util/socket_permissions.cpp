#include "util/socket_permissions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mxtls {

std::optional<SocketPermissionFailure> apply_socket_permissions(const std::string& path, const SocketPermissions& p) {
  if (p.mode && chmod(path.c_str(), *p.mode) != 0)
    return SocketPermissionFailure{false, "chmod " + path + ": " + std::strerror(errno)};
  if ((p.owner || p.group) &&
      chown(path.c_str(), p.owner.value_or(static_cast<uid_t>(-1)), p.group.value_or(static_cast<gid_t>(-1))) != 0)
    return SocketPermissionFailure{true, "chown " + path + ": " + std::strerror(errno)};
  return std::nullopt;
}

}  // namespace mxtls
