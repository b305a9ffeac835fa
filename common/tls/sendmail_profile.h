// The sendmail and openssl compat profiles. sendmail models the SMTP client
// of Sendmail 8.17 (Debian 12's build, OpenSSL 3) from sendmail.cf and its
// access map, as checked against the real Sendmail by
// tests/integration/sendmail_ground_truth_test.py:
//  - OpenSSL's defaults (versions, the library's security level: Sendmail
//    sets none), narrowed by CipherList (and its @SECLEVEL) and
//    ClientSSLOptions; no SNI; CACertFile/CACertPath as trust anchors;
//  - certificate problems never stop delivery by themselves (Sendmail only
//    records ${verify}); a failed handshake defers the message ("TLS
//    handshake failed."), or with TLSFallbacktoClear goes out in plaintext
//    on a new connection at once;
//  - Try_TLS NO and TLS_Srv requirements per MX host (tls/sendmail_access.h).
// openssl: a client with OpenSSL's defaults (all versions the library
// allows, cipher list DEFAULT, its security level, its CA paths, SNI, names
// checked at verify/secure), which defers when a handshake fails: what
// `auto` uses when this host has neither MTA.
#pragma once
#include <optional>
#include <string>

#include "config/config.h"
#include "tls/client_profile.h"

namespace mxtls {

// Throws ProfileError (unreadable sendmail.cf, a DANE level, a bad value).
ClientProfile sendmail_profile(const TlsConfig& config, std::optional<SecurityLevel> level);
ClientProfile openssl_profile(std::optional<SecurityLevel> level, const std::string& source);

// The security level OpenSSL gives a new client context (Debian 12: 2).
int openssl_default_security_level();

}  // namespace mxtls
