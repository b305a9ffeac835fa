// Reads the Postfix SMTP client's TLS settings from the live configuration by
// running `postconf -x` (no shell, fixed arguments, bounded output). Used by
// the postfix compat profile; not a general main.cf parser.
#pragma once
#include <map>
#include <string>

namespace mxtls {

// Returns name -> expanded value for every smtp_tls_*/tls_* key the profile
// needs. Throws ProfileError (tls/client_profile.h) if postconf fails.
std::map<std::string, std::string> read_postfix_tls_settings(const std::string& postconf_path,
                                                             const std::string& config_dir);

}  // namespace mxtls
