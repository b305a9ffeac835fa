#include "tls/postfix_settings.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "tls/client_profile.h"

extern char** environ;

namespace mxtls {
namespace {

constexpr std::array kKeys{
    "smtp_tls_security_level", "smtp_tls_protocols", "smtp_tls_mandatory_protocols", "smtp_tls_ciphers",
    "smtp_tls_mandatory_ciphers", "smtp_tls_exclude_ciphers", "smtp_tls_mandatory_exclude_ciphers",
    "tls_high_cipherlist", "tls_medium_cipherlist", "tls_low_cipherlist", "tls_export_cipherlist",
    "tls_null_cipherlist", "smtp_tls_CAfile", "smtp_tls_CApath", "tls_append_default_CA",
    "smtp_tls_servername", "smtp_tls_secure_cert_match", "smtp_tls_verify_cert_match",
    "smtp_dns_support_level", "smtp_host_lookup",
    // How it reaches each MX address and how long it waits (tls/client_profile.h MtaConnection).
    "inet_protocols", "smtp_address_preference", "smtp_mx_address_limit", "smtp_balance_inet_protocols",
    "smtp_connect_timeout", "smtp_helo_timeout", "smtp_starttls_timeout",
};
// Asked for too, but older Postfix versions lack them (3.6 added this one).
constexpr std::array kOptionalKeys{"smtp_tls_dane_insecure_mx_policy", "tls_eecdh_auto_curves"};
constexpr std::size_t kMaxOutput = 1 << 20;

// Reading main.cf, postconf works out every parameter's default, and when
// main.cf does not set mynetworks, its default asks the kernel for the
// interface addresses (getifaddrs: netlink), which the units'
// RestrictAddressFamilies forbid: postconf dies "inet_addr_local[getifaddrs]:
// ... not supported". Asking for each key with -h does not help (the
// defaults are worked out all the same); an explicit mynetworks (-o: for
// this command only, main.cf untouched) leaves nothing to ask the kernel,
// and no key the profile reads depends on it. Without main.cf: -d, Postfix's
// built-in defaults, which need no netlink either.
std::string run_postconf(const std::string& postconf_path, const std::string& config_dir, bool defaults) {
  std::vector<std::string> args{postconf_path, "-x"};
  if (!config_dir.empty()) {
    args.push_back("-c");
    args.push_back(config_dir);
  }
  if (defaults) args.push_back("-d");
  else {
    args.push_back("-o");
    args.push_back("mynetworks=127.0.0.0/8");
  }
  for (const char* k : kKeys) args.emplace_back(k);
  for (const char* k : kOptionalKeys) args.emplace_back(k);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) throw ProfileError(std::string("postconf: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, postconf_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw ProfileError("cannot run " + postconf_path + ": " + std::strerror(rc) +
                       " (set tls.postconf, or tls.profile = custom)");
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 && out.size() < kMaxOutput) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw ProfileError(postconf_path + " failed (exit " + std::to_string(WEXITSTATUS(status)) + ")" +
                       (config_dir.empty() ? "" : " for config directory " + config_dir));
  return out;
}

}  // namespace

PostfixTlsSettings read_postfix_tls_settings(const std::string& postconf_path, const std::string& config_dir) {
  const std::string main_cf = (config_dir.empty() ? std::string("/etc/postfix") : config_dir) + "/main.cf";
  struct stat st {};
  const bool defaults = stat(main_cf.c_str(), &st) != 0 && errno == ENOENT;
  const std::string out = run_postconf(postconf_path, config_dir, defaults);
  PostfixTlsSettings result;
  result.source = defaults ? "Postfix's built-in defaults: no " + main_cf : main_cf;
  auto& values = result.values;
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    const std::string line = out.substr(pos, nl - pos);
    pos = nl + 1;
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 3);
    else if (!line.empty() && line.back() == '=') values[line.substr(0, line.find(' '))] = "";
  }
  for (const char* k : kKeys)
    if (!values.count(k)) throw ProfileError(postconf_path + " did not report " + k);
  return result;
}

}  // namespace mxtls
