// The compat profile: the TLS client our MTA really is, at the security level
// that applies to a destination. `postfix` reads the live values with
// postconf (tls/postfix_settings.h) and reproduces what Postfix's SMTP client
// does: OpenSSL security level 0 as the base (1 where it matches the peer's
// name: verify, secure), then its own protocol and cipher-grade settings,
// which differ between opportunistic (may) and mandatory (encrypt and up).
// `sendmail` reads sendmail.cf and its access map (tls/sendmail_profile.h);
// `openssl` is a client with OpenSSL's defaults; `auto` picks postfix,
// sendmail or openssl by what this host has, and says why in `source`.
// `custom` takes the [tls] keys.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "tls/protocols.h"

namespace mxtls {

// Postfix's smtp_tls_security_level values that mxtls models, in Postfix's
// order (tls.h); fingerprint is judged as secure. dane and dane-only are
// decided per MX host from DNSSEC (tls/dane.h): the host then gets may,
// encrypt or TLSA authentication ("dane" as an effective level), or is
// deferred without a connection.
enum class SecurityLevel { none, may, encrypt, dane, dane_only, verify, secure };

std::string_view level_name(SecurityLevel l);  // none, may, encrypt, dane, dane-only, verify, secure
std::optional<SecurityLevel> level_from_name(std::string_view name);
// PKIX authentication (CA chain and names): verify and secure.
inline bool level_authenticates(SecurityLevel l) { return l >= SecurityLevel::verify; }
inline bool level_requires_tls(SecurityLevel l) { return l >= SecurityLevel::encrypt; }
inline bool level_is_dane(SecurityLevel l) { return l == SecurityLevel::dane || l == SecurityLevel::dane_only; }

// How our MTA reaches a destination's addresses and how long it waits
// (Postfix: inet_protocols, smtp_address_preference, smtp_mx_address_limit,
// smtp_balance_inet_protocols, smtp_connect_timeout, smtp_helo_timeout,
// smtp_starttls_timeout). The defaults are Postfix's.
enum class AddressPreference { any, ipv4, ipv6 };
struct MtaConnection {
  bool ipv4 = true, ipv6 = true;  // address families tried (inet_protocols)
  AddressPreference preference = AddressPreference::any;
  int address_limit = 5;          // addresses tried per delivery, over all MX hosts; 0: no limit
  bool balance_families = true;   // keep both families within the limit
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds helo_timeout{std::chrono::seconds(300)};      // greeting and EHLO
  std::chrono::milliseconds starttls_timeout{std::chrono::seconds(300)};  // STARTTLS reply and handshake
};

struct SendmailAccess;

// What the MTA does when STARTTLS was tried and the handshake failed or
// stalled, at a level that does not require TLS: Postfix defers and sends
// in plaintext only at a retry after minimal_backoff_time; Sendmail defers
// ("TLS handshake failed."), and with TLSFallbacktoClear reconnects at once
// without STARTTLS.
enum class HandshakeFailure { plaintext_after_delay, deferred, plaintext };

struct ClientProfile {
  std::string name;                // "postfix", "sendmail", "openssl" or "custom"
  std::string source;              // what was read (main.cf, sendmail.cf, ...) and, for auto, why this profile
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
  // Key-exchange groups offered, space or comma separated (postfix:
  // tls_eecdh_auto_curves, which Postfix 3.7 sets as the client's only
  // groups: no ffdhe groups, so a TLSv1.3 server with only those fails);
  // empty: OpenSSL's defaults. Names OpenSSL does not know are skipped.
  std::string groups;

  // dane, dane-only: Postfix lowers the level per MX host (smtp_tls_policy.c
  // dane_init) to may (no secure TLSA: the opportunistic protocols and
  // ciphers, OpenSSL security level 0) or encrypt (TLSA unusable: the
  // mandatory ones, level 0). The fields above are those of TLSA
  // authentication (mandatory settings, OpenSSL level 1); these, of may.
  std::string may_protocols_spec;
  VersionSet may_versions;
  std::string may_cipher_list;
  int unauthenticated_openssl_security_level = 0;  // may and encrypt
  // Postfix does DANE only with smtp_dns_support_level = dnssec (and DNS
  // host lookups); without, dane is may and dane-only defers everything.
  bool dane_dnssec_lookups = true;
  // smtp_tls_dane_insecure_mx_policy: an MX RRset that is not DNSSEC-signed
  // makes dane `may` (no TLSA lookups), `encrypt`, or `dane` (the MX host's
  // TLSA still counts when its address records are signed).
  SecurityLevel dane_insecure_mx = SecurityLevel::may;
  // A TLSA record that matches only a certificate expiring within this is a
  // warning ([probe] expiry_warning).
  std::chrono::seconds expiry_warning{std::chrono::hours(24 * 14)};
  MtaConnection connection;
  HandshakeFailure on_handshake_failure = HandshakeFailure::plaintext_after_delay;
  // A 5xx greeting: Postfix skips to the next MX host and defers
  // (smtp_skip_5xx_greeting); Sendmail returns the message to its sender.
  bool bounces_on_5xx_greeting = false;
  // sendmail: the access map's TLS_Srv/Try_TLS rules, applied per MX host
  // by the classifier (tls/sendmail_access.h); null: none.
  std::shared_ptr<const SendmailAccess> sendmail_access;

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

// The profile Postfix really uses for one MX host at dane/dane-only once
// DNSSEC has decided: `may`, `encrypt`, or `dane` (TLSA authentication);
// any other level returns the profile unchanged.
ClientProfile effective_profile(const ClientProfile& profile, SecurityLevel effective);

// The postfix profile from Postfix's settings (tls/postfix_settings.h), at
// `level` or else smtp_tls_security_level; `mxtls report --what-if` changes
// some settings first. Throws ProfileError naming the setting that is wrong.
struct PostfixTlsSettings;
ClientProfile postfix_profile(const PostfixTlsSettings& settings, std::optional<SecurityLevel> level);

// Builds the profile at tls.security_level, or the profile's own level
// when that is empty (Postfix: smtp_tls_security_level; the others: may).
// auto: postfix when postconf runs, else sendmail when tls.sendmail_cf
// exists, else openssl. Throws ProfileError naming the setting that is wrong.
ClientProfile build_client_profile(const TlsConfig& config);

}  // namespace mxtls
