// What Sendmail's SMTP client takes from sendmail.cf for STARTTLS: the
// options CipherList, ClientSSLOptions, TLSFallbacktoClear, CACertFile and
// CACertPath, and where the access map is (the K line of map "access").
// Used by the sendmail compat profile; not a general sendmail.cf parser.
#pragma once
#include <string>
#include <string_view>

#include "tls/protocols.h"

namespace mxtls {

struct SendmailTlsSettings {
  std::string source;                // the sendmail.cf read
  std::string cipher_list;           // CipherList; empty: OpenSSL's default list
  std::string client_ssl_options;    // ClientSSLOptions as written
  // The versions the client offers: OpenSSL's, minus ClientSSLOptions'
  // SSL_OP_NO_TLSv1* bits (Sendmail 8.17's default, SSL_OP_ALL |
  // SSL_OP_NO_SSLv2 | SSL_OP_NO_TICKET, removes none).
  VersionSet versions = kAllVersions;
  bool fallback_to_clear = false;    // TLSFallbacktoClear
  std::string ca_file, ca_path;      // CACertFile, CACertPath
  std::string access_map;            // the access map's file as the K line names it; empty: no access map
};

// Parses sendmail.cf text; `origin` names it in errors. Throws ProfileError
// (tls/client_profile.h) for a value Sendmail itself would refuse.
SendmailTlsSettings parse_sendmail_cf(std::string_view text, const std::string& origin);
// Reads (at most 4 MiB) and parses a sendmail.cf. Throws ProfileError.
SendmailTlsSettings read_sendmail_cf(const std::string& path);

// Reads a whole text file of at most `limit` bytes; throws ProfileError
// naming `what` when it cannot be opened or is larger.
std::string read_bounded_file(const std::string& path, std::size_t limit, const std::string& what);

}  // namespace mxtls
