#include "report/mta_log.h"

#include <array>
#include <cctype>
#include <ctime>

#include "address/domain.h"
#include "report/log_time.h"

namespace mxtls {
namespace {

// The texts Postfix (3.7, OpenSSL 3) writes, and the reason each means.
// Order matters: the first match wins.
struct MtaText {
  std::string_view text;
  Reason reason;
};

// "warning: TLS library problem: error:...:TEXT:..." (OpenSSL's reason).
constexpr std::array kLibraryProblems{
    MtaText{"alert protocol version", Reason::protocol_version},
    MtaText{"unsupported protocol", Reason::protocol_version},
    MtaText{"no protocols available", Reason::protocol_version},
    MtaText{"wrong version number", Reason::protocol_version},
    MtaText{"legacy sigalg disallowed or unsupported", Reason::legacy_sigalg},
    MtaText{"no suitable signature algorithm", Reason::legacy_sigalg},
    MtaText{"wrong signature type", Reason::legacy_sigalg},
    MtaText{"unsupported signature algorithm", Reason::legacy_sigalg},
    MtaText{"dh key too small", Reason::dh_too_small},
    MtaText{"ee key too small", Reason::weak_key},
    MtaText{"certificate verify failed", Reason::cert_untrusted_chain},
    MtaText{"alert handshake failure", Reason::no_shared_cipher},
    MtaText{"no shared cipher", Reason::no_shared_cipher},
    MtaText{"no ciphers available", Reason::no_shared_cipher},
    MtaText{"unexpected eof while reading", Reason::handshake_failed},
    MtaText{"bad dh value", Reason::weak_key},
};

// "[server ]certificate verification failed for RELAY: TEXT".
constexpr std::array kVerifyFailures{
    MtaText{"certificate has expired", Reason::cert_expired},
    MtaText{"not yet valid", Reason::cert_not_yet_valid},
    MtaText{"self-signed certificate", Reason::cert_self_signed},
    MtaText{"self signed certificate", Reason::cert_self_signed},
    MtaText{"untrusted issuer", Reason::cert_untrusted_chain},
    MtaText{"unable to get local issuer certificate", Reason::cert_untrusted_chain},
    MtaText{"unable to verify the first certificate", Reason::cert_untrusted_chain},
    MtaText{"hostname mismatch", Reason::cert_host_mismatch},
    MtaText{"subject name does not match", Reason::cert_host_mismatch},
    MtaText{"key too small", Reason::weak_key},
    MtaText{"no matching DANE TLSA records", Reason::tlsa_mismatch},
};

// Postfix 3.10+ with TLSRPT (tlsrpt_wrapper.c): "TLSRPT: status=failure,
// domain=D, receiving_mx=HOST[ADDR], failure_type=TYPE[, failure_reason=R]"
// with RFC 8460's result types.
constexpr std::array kTlsrptFailures{
    MtaText{"starttls-not-supported", Reason::starttls_not_offered},
    MtaText{"certificate-host-mismatch", Reason::cert_host_mismatch},
    MtaText{"certificate-expired", Reason::cert_expired},
    MtaText{"certificate-not-trusted", Reason::cert_untrusted_chain},
    MtaText{"validation-failure", Reason::handshake_failed},
    MtaText{"tlsa-invalid", Reason::tlsa_mismatch},
    MtaText{"dnssec-invalid", Reason::dnssec_bogus},
    MtaText{"dane-required", Reason::dane_required},
    MtaText{"sts-policy-fetch-error", Reason::sts_policy_fetch_failed},
    MtaText{"sts-policy-invalid", Reason::sts_policy_invalid},
    MtaText{"sts-webpki-invalid", Reason::sts_webpki_invalid},
};

// The text in parentheses after status=deferred/bounced. nullopt reason:
// take the problem the session's earlier lines recorded.
struct StatusText {
  std::string_view text;
  std::optional<Reason> reason;
};
constexpr std::array kStatusTexts{
    // DANE (smtp_tls_policy.c dane_init), before any connection.
    StatusText{"non DNSSEC destination", Reason::dane_required},
    StatusText{"no TLSA records found", Reason::dane_required},
    StatusText{"TLSA records unusable", Reason::tlsa_unusable},
    StatusText{"TLSA lookup error", Reason::dns_failure},
    StatusText{"TLS is required, but was not offered", Reason::starttls_not_offered},
    StatusText{"refused to start TLS", Reason::starttls_refused},
    StatusText{"Cannot start TLS", std::nullopt},
    StatusText{"Server certificate not", std::nullopt},
    StatusText{"timed out while receiving the initial server greeting", Reason::timeout},
    StatusText{"Connection refused", Reason::connect_failed},
    StatusText{"Connection timed out", Reason::timeout},
    StatusText{"Host not found, try again", Reason::dns_failure},
    StatusText{"Host or domain name not found", Reason::nxdomain},
};

constexpr std::array<std::pair<std::string_view, MtaTls>, 4> kEstablished{{
    {"Anonymous TLS connection established to ", MtaTls::anonymous},
    {"Untrusted TLS connection established to ", MtaTls::untrusted},
    {"Trusted TLS connection established to ", MtaTls::trusted},
    {"Verified TLS connection established to ", MtaTls::verified},
}};

template <std::size_t N>
std::optional<Reason> lookup(std::string_view text, const std::array<MtaText, N>& table) {
  for (const auto& t : table)
    if (text.find(t.text) != std::string_view::npos) return t.reason;
  return std::nullopt;
}

// The smtp process tag and the message of "... postfix/smtp[PID]: MESSAGE"
// (any syslog_name ending in /smtp). False for every other program.
bool split_smtp_line(std::string_view line, std::string_view& process, std::string_view& message) {
  const auto end = line.find("]: ");
  if (end == std::string_view::npos) return false;
  const auto space = line.rfind(' ', end);
  process = line.substr(space == std::string_view::npos ? 0 : space + 1, end + 1 - (space == std::string_view::npos ? 0 : space + 1));
  const auto open = process.find("/smtp[");
  if (open == std::string_view::npos || open == 0) return false;
  const auto pid = process.substr(open + 6, process.size() - open - 7);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos) return false;
  message = line.substr(end + 3);
  return true;
}

// "RELAY: rest" after `prefix`: the relay up to the first ": ".
std::optional<std::string_view> relay_after(std::string_view message, std::string_view prefix, std::string_view& rest) {
  if (!message.starts_with(prefix)) return std::nullopt;
  message.remove_prefix(prefix.size());
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  rest = message.substr(colon + 2);
  return message.substr(0, colon);
}

// The value of ", key=" in a status line, up to the next ", ".
std::string_view field(std::string_view message, std::string_view key) {
  const auto at = message.find(key);
  if (at == std::string_view::npos) return {};
  auto value = message.substr(at + key.size());
  return value.substr(0, value.find(", "));
}

bool valid_queue_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (const unsigned char c : id)
    if (!std::isalnum(c)) return false;
  return true;
}

}  // namespace

std::string_view mta_tls_name(MtaTls t) {
  constexpr std::string_view kNames[] = {"none", "anonymous", "untrusted", "trusted", "verified"};
  return kNames[static_cast<int>(t)];
}

MtaLogReader::Session& MtaLogReader::session(std::string_view process) {
  if (const auto it = sessions_.find(process); it != sessions_.end()) return it->second;
  if (sessions_.size() >= kMaxMtaSessions) sessions_.clear();  // bounded: old processes are long gone
  return sessions_.emplace(std::string(process), Session{}).first->second;
}

std::optional<Reason> MtaLogReader::library_problem(std::string_view text) { return lookup(text, kLibraryProblems); }

bool MtaLogReader::same_relay(std::string_view session_relay, std::string_view status_relay) {
  if (session_relay.empty() || !status_relay.starts_with(session_relay)) return false;
  auto tail = status_relay.substr(session_relay.size());
  if (tail.starts_with('.') && !session_relay.ends_with('.')) tail.remove_prefix(1);  // Sendmail's "mx.a.test" beside "mx.a.test."
  return tail.empty() || tail.front() == ':' || tail.front() == ' ';
}

MtaLogReader::MtaLogReader(int64_t now) : now_(now ? now : static_cast<int64_t>(std::time(nullptr))) {}

std::optional<MtaDelivery> MtaLogReader::read(std::string_view line) {
  auto d = read_line(line);
  if (d) d->at = log_line_time(line, now_).value_or(0);
  return d;
}

std::optional<MtaDelivery> MtaLogReader::read_line(std::string_view line) {
  if (line.size() > kMaxMtaLine) return std::nullopt;
  std::string_view process, message, rest;
  if (!split_smtp_line(line, process, message))
    return split_sendmail_line(line, process, message) ? read_sendmail(process, message) : std::nullopt;

  for (const auto& [prefix, tls] : kEstablished) {
    if (const auto relay = relay_after(message, prefix, rest)) {
      // A certificate verification failure is logged just before the
      // session it belongs to is established: keep it.
      auto& s = session(process);
      if (s.relay == *relay && s.problem && !s.handshake_failed) s.tls = tls;
      else s = Session{std::string(*relay), tls, std::nullopt, {}, false, {}, {}};
      return std::nullopt;
    }
  }
  if (message.starts_with("warning: TLS library problem: ")) {
    if (const auto reason = lookup(message, kLibraryProblems)) {
      auto& s = session(process);
      const std::string evidence(message.substr(30, 200));
      if (s.handshake_failed) {
        if (!s.problem) s.problem = reason, s.evidence = evidence;
      } else {
        s.unbound_problem = reason;
        s.unbound_evidence = evidence;
      }
    }
    return std::nullopt;
  }
  if (const auto relay = relay_after(message, "SSL_connect error to ", rest)) {
    auto& s = session(process);
    if (s.relay != *relay) {
      auto unbound = std::move(s.unbound_problem);
      auto unbound_evidence = std::move(s.unbound_evidence);
      s = Session{std::string(*relay), MtaTls::none, unbound, std::move(unbound_evidence), false, {}, {}};
    }
    s.tls = MtaTls::none;
    s.handshake_failed = true;
    if (!s.problem && rest.find("timed out") != std::string_view::npos) {
      s.problem = Reason::timeout;
      s.evidence = std::string(message.substr(0, 200));
    }
    return std::nullopt;
  }
  // "warning: RELAY: all TLSA records unusable[, fallback to unauthenticated TLS]"
  // (tls_client.c): at dane-only the verification that follows must fail.
  if (const auto relay = relay_after(message, "warning: ", rest); relay && rest.starts_with("all TLSA records unusable")) {
    auto& s = session(process);
    s = Session{std::string(*relay), MtaTls::none, Reason::tlsa_unusable, std::string(message.substr(0, 200)), false, {}, {}};
    return std::nullopt;
  }
  for (std::string_view prefix : {"server certificate verification failed for ", "certificate verification failed for "}) {
    if (const auto relay = relay_after(message, prefix, rest)) {
      // "untrusted issuer /O=...": the name after it is the server's to choose.
      if (const auto reason = lookup(rest.substr(0, rest.find(" /")), kVerifyFailures)) {
        auto& s = session(process);
        if (s.relay != *relay) s = Session{std::string(*relay), MtaTls::none, std::nullopt, {}, false, {}, {}};
        if (!s.problem) {
          s.problem = reason;
          s.evidence = std::string(message.substr(0, 200));
        }
      }
      return std::nullopt;
    }
  }

  // Postfix 3.10+: one TLSRPT line per failed handshake. OpenSSL's own line,
  // when there is one, says more: it wins.
  if (message.starts_with("TLSRPT: status=failure, ")) {
    const auto mx = field(message, ", receiving_mx=");
    const auto type = field(message, ", failure_type=");
    if (const auto reason = lookup(type, kTlsrptFailures); reason && !mx.empty()) {
      auto& s = session(process);
      if (!same_relay(s.relay, mx) && !same_relay(mx, s.relay)) s = Session{std::string(mx), MtaTls::none, std::nullopt, {}, false, {}, {}};
      s.tls = MtaTls::none;
      if (!s.problem) {
        s.problem = reason;
        s.evidence = std::string(message.substr(0, 200));
      }
    }
    return std::nullopt;
  }

  // "QUEUEID: to=<ADDRESS>, relay=RELAY, ..., status=STATUS (TEXT)"
  const auto colon = message.find(": to=<");
  if (colon == std::string_view::npos || !valid_queue_id(message.substr(0, colon))) return std::nullopt;
  const auto status_at = message.find(", status=");
  if (status_at == std::string_view::npos) return std::nullopt;
  MtaDelivery d;
  d.queue_id = std::string(message.substr(0, colon));
  const auto address = message.substr(colon + 6, message.find('>', colon) - colon - 6);
  d.domain = recipient_domain(address);
  d.relay = std::string(field(message, ", relay="));
  // Postfix 3.11+: "tls=LEVEL[/DOWNGRADE][...]", the security level the delivery used.
  d.mta_level = std::string(field(message.substr(0, status_at), ", tls=").substr(0, 64));
  auto status = message.substr(status_at + 9);
  const auto text_at = status.find(" (");
  std::string_view text = text_at == std::string_view::npos ? std::string_view{} : status.substr(text_at + 2);
  if (text.ends_with(')')) text.remove_suffix(1);
  text = text.substr(0, text.find(" said: "));  // what follows is the remote server's reply: its words, not Postfix's
  d.status = std::string(status.substr(0, text_at));
  if (d.domain.empty() || !(d.status == "sent" || d.status == "deferred" || d.status == "bounced")) return std::nullopt;

  const auto it = sessions_.find(process);
  if (it != sessions_.end()) it->second.handshake_failed = false;
  const Session* s = it != sessions_.end() && same_relay(it->second.relay, d.relay) ? &it->second : nullptr;
  if (d.status == "sent") {
    d.tls = s ? s->tls : MtaTls::none;
    // Without a session line (smtp_tls_loglevel = 0) the tls= field still
    // says whether the level encrypted at all.
    if (!s && !d.mta_level.empty() && !d.mta_level.starts_with("none") && !d.mta_level.starts_with("may"))
      d.tls = MtaTls::untrusted;
    if (s && s->problem) {  // delivered, but after a TLS problem: a plaintext fallback or an untrusted session
      d.reason = s->problem;
      d.evidence = s->evidence;
    }
    return d;
  }
  for (const auto& t : kStatusTexts) {
    if (text.find(t.text) == std::string_view::npos) continue;
    d.reason = t.reason;
    d.evidence = std::string(text.substr(0, 200));
    if (!t.reason) {
      d.reason = s && s->problem ? *s->problem : t.text == "Cannot start TLS" ? Reason::handshake_failed : Reason::cert_untrusted_chain;
      if (s && s->problem) d.evidence = s->evidence;
    }
    break;
  }
  return d;
}

}  // namespace mxtls
