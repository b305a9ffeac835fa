// Sendmail's STARTTLS access-map rules for its SMTP client (cf/README,
// "STARTTLS"): Try_TLS (may the client try STARTTLS with this server?) and
// TLS_Srv (what must the session be?), read from the map's text source
// (makemap's input) and looked up as the try_tls and tls_server rulesets
// do: the server's host name, then its parent domains, then its address and
// its shorter prefixes, then the bare tag. Pure apart from reading the file.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace mxtls {

struct SendmailAccess {
  std::string source;                          // the file read
  std::map<std::string, std::string> tls_srv;  // key after "TLS_Srv:" (lower case; "" the default) -> value
  std::map<std::string, std::string> try_tls;  // key after "Try_TLS:" -> value
};

// What a TLS_Srv value asks of a session, as TLS_connection reads it:
// [PERM+|TEMP+] VERIFY[:bits] | ENCR:bits [+extensions]. Any other value
// asks nothing. verify: the chain verified (Sendmail's ${verify} = OK; no
// name check); min_bits: ${cipher_bits} at least this. A requirement that
// fails is a 4.7.0 deferral, 5.7.0 (a bounce) with PERM+.
struct SendmailRequirement {
  bool verify = false;
  int min_bits = 0;
  bool permanent = false;
  std::string rule;   // the entry that applied, e.g. "TLS_Srv:mx.example.org VERIFY"; empty: none
  bool requires_tls() const { return verify || min_bits > 0; }
};

// Parses makemap input ("KEY VALUE" lines, '#' comments); only the
// TLS_Srv: and Try_TLS: entries are kept. Throws ProfileError on a line
// over 4 KiB or more than 100,000 lines.
SendmailAccess parse_sendmail_access(std::string_view text, const std::string& origin);
SendmailAccess read_sendmail_access(const std::string& path);  // at most 16 MiB

SendmailRequirement parse_requirement(std::string_view value);
// The server's requirement (tls_server) and whether the client tries
// STARTTLS with it (try_tls: not when the entry is NO); `rule` is set to the
// Try_TLS entry that said no.
SendmailRequirement server_requirement(const SendmailAccess& access, const std::string& host, const std::string& address);
bool tries_starttls(const SendmailAccess& access, const std::string& host, const std::string& address, std::string& rule);

}  // namespace mxtls
