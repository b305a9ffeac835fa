// What the MTA itself logged about TLS to each destination: Postfix's SMTP
// client lines (TLS established, TLS library problems, certificate
// verification failures, SSL_connect errors, 3.10+ TLSRPT lines) and
// Sendmail's (STARTTLS=client, its OpenSSL errors, tls_server rejects;
// mta_log_sendmail.cpp) joined per process to the delivery status line that
// follows, and classified into mxtls reason codes from tables of the texts
// the MTAs write (mta_log.cpp).
// Pure and bounded: lines over kMaxMtaLine are ignored, at most
// kMaxMtaSessions processes are remembered. Not a general log parser: lines
// it does not know are skipped.
#pragma once
#include <cstddef>
#include <cstdint>
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
  std::string mta_level;         // Postfix 3.11+ "tls=" field (may, encrypt/(requiretls), ...); empty before
  int64_t at = 0;                // when the line was logged (report/log_time), Unix seconds; 0: unknown
};

inline constexpr std::size_t kMaxMtaLine = 4096;
inline constexpr std::size_t kMaxMtaSessions = 4096;

// Reads an MTA log line by line, in order.
class MtaLogReader {
 public:
  // now: the time a syslog stamp without a year is read near (0: the clock's).
  explicit MtaLogReader(int64_t now = 0);
  // A delivery when `line` is a status line of the MTA's SMTP client.
  std::optional<MtaDelivery> read(std::string_view line);

 private:
  std::optional<MtaDelivery> read_line(std::string_view line);
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
  std::optional<MtaDelivery> read_sendmail(std::string_view process, std::string_view message);
  static bool split_sendmail_line(std::string_view line, std::string_view& process, std::string_view& message);
  static std::optional<Reason> library_problem(std::string_view text);  // OpenSSL's reason text
  // "mx.a.test[192.0.2.1]" names the relay "mx.a.test[192.0.2.1]:25";
  // Sendmail's "mx.a.test." names "mx.a.test. [192.0.2.1]".
  static bool same_relay(std::string_view session_relay, std::string_view status_relay);
  std::map<std::string, Session, std::less<>> sessions_;
  int64_t now_;
};

}  // namespace mxtls
