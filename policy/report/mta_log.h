// What the MTA itself logged about TLS to each destination: Postfix's SMTP
// client lines (TLS established, TLS library problems, certificate
// verification failures, SSL_connect errors) joined per smtp process to the
// delivery status line that follows, and classified into mxtls reason codes
// from a table of the texts Postfix writes (kMtaTexts in mta_log.cpp).
// Pure and bounded: lines over kMaxMtaLine are ignored, at most
// kMaxMtaSessions processes are remembered. Not a general log parser: lines
// it does not know are skipped.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "verdict/reason.h"

namespace mxtls {

// How the MTA's session was protected when it delivered (Postfix's words).
enum class MtaTls { none, anonymous, untrusted, trusted, verified };
std::string_view mta_tls_name(MtaTls t);  // none, anonymous, untrusted, trusted, verified

struct MtaDelivery {
  std::string queue_id;
  std::string domain;            // the recipient's domain
  std::string relay;             // "mx.example[192.0.2.1]:25", "none"
  std::string status;            // sent, deferred, bounced
  MtaTls tls = MtaTls::none;     // for sent: how the session was protected
  std::optional<Reason> reason;  // the TLS (or transport) problem the MTA met, if any
  std::string evidence;          // the log text the reason was taken from
};

inline constexpr std::size_t kMaxMtaLine = 4096;
inline constexpr std::size_t kMaxMtaSessions = 4096;

// Reads an MTA log line by line, in order.
class MtaLogReader {
 public:
  // A delivery when `line` is a status line of the MTA's SMTP client.
  std::optional<MtaDelivery> read(std::string_view line);

 private:
  // What one smtp process last logged about a TLS session.
  // OpenSSL's "TLS library problem" line names no host and comes just
  // before or just after the SSL_connect error that does.
  struct Session {
    std::string relay;             // the host the lines below are about
    MtaTls tls = MtaTls::none;
    std::optional<Reason> problem;
    std::string evidence;
    bool handshake_failed = false;  // the last line was "SSL_connect error to RELAY"
    std::optional<Reason> unbound_problem;  // a library problem before its SSL_connect error
    std::string unbound_evidence;
  };
  Session& session(std::string_view process);
  std::map<std::string, Session, std::less<>> sessions_;
};

}  // namespace mxtls
