// The compat profile: the TLS client our MTA really is, at the security level
// that applies to a destination. `postfix` reads the live values with
// postconf (tls/postfix_settings.h) and reproduces what Postfix's SMTP client
// does: OpenSSL security level 0 as the base (1 where it matches the peer's
// name: verify, secure), then its own protocol and cipher-grade settings,
// which differ between opportunistic (may) and mandatory (encrypt and up). `custom` takes the [tls] keys.
#pragma once
#include <string>
#include <vector>

#include "config/config.h"
#include "tls/protocols.h"

namespace mxtls {

// Postfix's smtp_tls_security_level values that mxtls models. dane is
// judged as may (no TLSA records are looked up yet); fingerprint as secure.
enum class SecurityLevel { none, may, encrypt, verify, secure };

std::string_view level_name(SecurityLevel l);
std::optional<SecurityLevel> level_from_name(std::string_view name);
inline bool level_authenticates(SecurityLevel l) { return l >= SecurityLevel::verify; }
inline bool level_requires_tls(SecurityLevel l) { return l >= SecurityLevel::encrypt; }

struct ClientProfile {
  std::string name;                // "postfix" or "custom"
  std::string source;              // postfix: the main.cf read, or that there was none (built-in defaults)
  SecurityLevel level = SecurityLevel::may;
  std::string protocols_spec;      // as written, for reports ("want=")
  VersionSet versions;
  std::string cipher_list;         // OpenSSL cipher list for TLS <= 1.2
  int openssl_security_level = 0;
  std::string ca_file, ca_path;
  bool send_sni = false;           // SNI = MX host name
  // Names a certificate must match under verify/secure, Postfix-style:
  // "hostname" (the MX name), "nexthop" (the domain), "dot-nexthop" (subdomains).
  std::vector<std::string> match;

  // The versions OpenSSL 3 can really complete with this profile: at
  // security level 1 and up TLSv1.0/1.1 fail, since their MD5-SHA1 and SHA-1
  // handshake signatures are refused.
  VersionSet effective_versions() const {
    VersionSet v = versions;
    if (openssl_security_level >= 1) v.bits &= ~((1u << static_cast<unsigned>(TlsVersion::tls1_0)) |
                                                 (1u << static_cast<unsigned>(TlsVersion::tls1_1)));
    return v;
  }
};

class ProfileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the profile at tls.security_level, or the profile's own level
// when that is empty (Postfix: smtp_tls_security_level; custom: may).
// Throws ProfileError naming the setting that is wrong.
ClientProfile build_client_profile(const TlsConfig& config);

}  // namespace mxtls
