// Reads the Postfix SMTP client's TLS settings from the live configuration by
// running postconf (no shell, fixed arguments, bounded output). Used by the
// postfix compat profile; not a general main.cf parser.
#pragma once
#include <map>
#include <string>

namespace mxtls {

struct PostfixTlsSettings {
  std::map<std::string, std::string> values;  // name -> expanded value
  std::string source;  // what was read: "/etc/postfix/main.cf", or Postfix's built-in defaults when there is none
};

// Every smtp_tls_*/tls_* key the profile needs, and the address and timeout
// settings of its SMTP client. Without a main.cf in the
// configuration directory (Postfix installed but not configured), Postfix's
// built-in defaults, which is what it would use. Throws ProfileError
// (tls/client_profile.h) if postconf fails.
PostfixTlsSettings read_postfix_tls_settings(const std::string& postconf_path, const std::string& config_dir);

}  // namespace mxtls
