#include "util/socket_permissions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace mxtls {

void apply_socket_permissions(const std::string& path, const SocketPermissions& p) {
  if (p.mode && chmod(path.c_str(), *p.mode) != 0) throw std::system_error(errno, std::generic_category(), "chmod " + path);
  if ((p.owner || p.group) &&
      chown(path.c_str(), p.owner.value_or(static_cast<uid_t>(-1)), p.group.value_or(static_cast<gid_t>(-1))) != 0)
    throw std::system_error(errno, std::generic_category(), "chown " + path);
}

}  // namespace mxtls
