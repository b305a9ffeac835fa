#include "util/socket_permissions.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "config/config.h"

namespace mxtls {

void apply_socket_permissions(const std::string& path, const SocketPermissions& p, const std::string& key_prefix) {
  if (!p.mode.empty()) {
    unsigned mode = 0;
    const auto r = std::from_chars(p.mode.data(), p.mode.data() + p.mode.size(), mode, 8);
    if (r.ec != std::errc() || r.ptr != p.mode.data() + p.mode.size() || mode > 0777)
      throw ConfigError(key_prefix + "socket_mode: '" + p.mode + "' is not an octal mode");
    if (chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!p.owner.empty()) {
    const passwd* pw = getpwnam(p.owner.c_str());
    if (!pw) throw ConfigError(key_prefix + "socket_owner: no such user '" + p.owner + "'");
    uid = pw->pw_uid;
  }
  if (!p.group.empty()) {
    const group* gr = getgrnam(p.group.c_str());
    if (!gr) throw ConfigError(key_prefix + "socket_group: no such group '" + p.group + "'");
    gid = gr->gr_gid;
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && chown(path.c_str(), uid, gid) != 0)
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
}

}  // namespace mxtls
