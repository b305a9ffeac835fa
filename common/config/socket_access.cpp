#include "config/socket_access.h"

#include <grp.h>
#include <pwd.h>

#include <charconv>

#include "config/config.h"

namespace mxtls {

SocketAccess resolve_socket_access(const std::string& owner, const std::string& group, const std::string& mode,
                                   const std::string& key_prefix) {
  SocketPermissions p;
  if (!mode.empty()) {
    unsigned bits = 0;
    const auto r = std::from_chars(mode.data(), mode.data() + mode.size(), bits, 8);
    if (r.ec != std::errc() || r.ptr != mode.data() + mode.size() || bits > 0777)
      throw ConfigError(key_prefix + "socket_mode: '" + mode + "' is not an octal mode");
    p.mode = static_cast<mode_t>(bits);
  }
  if (!owner.empty()) {
    const passwd* pw = getpwnam(owner.c_str());
    if (!pw) throw ConfigError(key_prefix + "socket_owner: no such user '" + owner + "'");
    p.owner = pw->pw_uid;
  }
  if (!group.empty()) {
    const struct group* gr = getgrnam(group.c_str());
    if (!gr) throw ConfigError(key_prefix + "socket_group: no such group '" + group + "'");
    p.group = gr->gr_gid;
  }
  return {p, key_prefix};
}

void apply_socket_access(const std::string& path, const SocketAccess& access) {
  const auto failure = apply_socket_permissions(path, access.permissions);
  if (!failure) return;
  const auto& p = access.permissions;
  const std::string& k = access.key_prefix;
  std::string keys = k + "socket_mode";
  if (failure->ownership)
    keys = p.owner && p.group ? k + "socket_owner, " + k + "socket_group" : k + (p.owner ? "socket_owner" : "socket_group");
  throw ConfigError(keys + ": " + failure->message);
}

}  // namespace mxtls
