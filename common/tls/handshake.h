// TLS client handshakes over an already-open SMTP connection (after
// STARTTLS), recording everything the classifier needs: every verify error
// along the chain (the callback records and lets the handshake continue; the
// security level decides later whether it matters), the alert the peer sent,
// the negotiated version, cipher and signature digest, and the peer's chain.
// Contexts: the compat profile, one survey context per TLS version (security
// level 0, every cipher, DH groups below OpenSSL's 1024-bit floor too, so
// the survey can say how small a refused group was), the survey's settings
// without anonymous ciphers, and a permissive one for implicit-TLS
// detection. The trust anchors are parsed once per CA
// file/path and shared by every context that names them (an X509_STORE is
// safe to verify with from several threads); no context keeps sessions,
// so every probe sees the server afresh.
#pragma once
#include <array>
#include <memory>
#include <string>

#include <openssl/types.h>
#include <vector>

#include "util/asio.h"  // first: see its note on <utility>
#include <boost/asio/ssl.hpp>

#include "tls/certificate.h"
#include "tls/client_profile.h"
#include "tls/dane.h"
#include "util/asio.h"
#include "util/watchdog.h"

namespace mxtls {

struct VerifyIssue {
  int depth = 0;
  int code = 0;           // X509_V_ERR_*
  std::string text;       // X509_verify_cert_error_string
};

struct HandshakeResult {
  bool attempted = false;
  bool ok = false;
  bool timed_out = false;
  bool sni_sent = false;
  std::string version;          // negotiated, e.g. TLSv1.2
  std::string cipher;
  int cipher_bits = 0;          // the cipher's strength (Sendmail's ${cipher_bits})
  std::string error;            // why it failed (OpenSSL's reason text)
  int ssl_reason = 0;           // ERR_GET_REASON of the failure
  int alert_received = -1;      // TLS alert description the peer sent, -1 if none
  std::string peer_signature_digest;  // TLS >= 1.2: digest the server signed with (SHA1, SHA256, ...)
  std::vector<VerifyIssue> verify_issues;
  std::vector<CertificateInfo> chain;  // as the peer sent it, leaf first
  std::shared_ptr<X509> leaf;   // the leaf itself (parsed once), so each destination matches its own names
  bool host_matches = false;    // leaf names one of the destination's match names (set by the prober)
  DaneOutcome dane;             // TLSA authentication, when a DaneSetup was given
  // Handshake details the server chose: its finite-field DH group (DHE and
  // ADH key exchange; 0 for ECDHE and TLSv1.3's usual groups), and whether
  // it asked for a client certificate (CertificateRequest seen).
  int dh_bits = 0;
  bool client_cert_requested = false;
  // The handshake completed and the server then ended the session (a
  // TLSv1.3 server refusing our missing client certificate): to the MTA a
  // lost session, not a failed handshake.
  bool refused_after_handshake = false;
  // An anonymous (aNULL) cipher was chosen: a session without a certificate.
  bool anonymous() const { return ok && chain.empty(); }
};

class TlsClientContexts {
 public:
  // Throws ProfileError if the cipher list matches nothing or a CA file cannot be read.
  explicit TlsClientContexts(const ClientProfile& profile);
  asio::ssl::context& compat() { return compat_; }
  // dane/dane-only: the context of the level Postfix lowers a host to
  // (may, encrypt); dane itself, or any other level: compat().
  asio::ssl::context& compat(SecurityLevel effective);
  asio::ssl::context& survey(TlsVersion v) { return *survey_[static_cast<std::size_t>(v)]; }
  // The survey's settings, every version, every cipher with a certificate
  // (no aNULL): what a server whose compat session was anonymous does for
  // a client that needs its certificate (verify, secure).
  asio::ssl::context& certified() { return certified_; }
  asio::ssl::context& any_version() { return any_; }

 private:
  asio::ssl::context compat_;
  std::unique_ptr<asio::ssl::context> compat_may_, compat_encrypt_;
  std::array<std::unique_ptr<asio::ssl::context>, 4> survey_;
  asio::ssl::context certified_;
  asio::ssl::context any_;
  std::shared_ptr<X509_STORE> trust_;  // the compat contexts' anchors (null: none configured)
};

// The trust anchors of `ca_file`/`ca_path`, parsed once while any context
// holds them (thread-safe). Throws ProfileError when they cannot be read.
std::shared_ptr<X509_STORE> shared_trust_store(const std::string& ca_file, const std::string& ca_path);

using TlsStream = asio::ssl::stream<tcp::socket>;

// Runs the client handshake on `stream`; never throws for peer behaviour.
// With `dane`, OpenSSL authenticates the peer against the TLSA records as
// Postfix has it do (tls_client.c tls_auth_enable): no name checks for
// DANE-EE(3), the base domain for DANE-TA(2), no partial wildcards; the
// SNI should then be the base domain.
asio::awaitable<HandshakeResult> run_handshake(TlsStream& stream, Watchdog& watchdog, std::chrono::milliseconds budget,
                                               const std::string& sni, const DaneSetup* dane = nullptr);

}  // namespace mxtls
