// Sendmail's side of report/mta_log: the lines sendmail (8.17, LogLevel 9,
// syslog tag sendmail, sm-mta or sm-mta-*) writes about its SMTP client's
// TLS, joined per process to the stat= line that follows:
//   STARTTLS=client, relay=R, version=V, verify=OK|FAIL|NONE|..., cipher=...
//   STARTTLS=client, error: connect failed=-1, reason=TEXT, ..., relay=R
//   STARTTLS=client: PID:error:...:TEXT:...      (OpenSSL's error queue)
//   STARTTLS: read error=... / write error=...   (after the handshake)
//   ruleset=tls_server, arg1=SOFTWARE, relay=R, reject=403 4.7.0 TLS handshake failed.
//   QID: to=<A>, ..., relay=R [ADDR], dsn=D, stat=Sent (...) | Deferred: TEXT | TEXT
// Sendmail names no session start: a session line counts for the stat=
// lines of the same relay that follow it in that process.
#include <array>

#include "address/domain.h"
#include "report/mta_log.h"

namespace mxtls {
namespace {

// Text after "stat=Deferred: " (or a bounce's stat=) and what it means.
// nullopt: take the problem the session recorded (or handshake_failed).
struct StatText {
  std::string_view text;
  std::optional<Reason> reason;
};
constexpr std::array kStatTexts{
    StatText{"TLS handshake failed", std::nullopt},
    StatText{"Connection refused", Reason::connect_failed},
    StatText{"Connection timed out", Reason::timeout},
    StatText{"timeout waiting for input", Reason::timeout},
    StatText{"Name server timeout", Reason::dns_failure},
    StatText{"Host unknown", Reason::nxdomain},
    StatText{"No route to host", Reason::connect_failed},
};

// ${verify} values that mean the certificate was authenticated (the chain,
// or DANE); every other one (FAIL, NO, NONE, ...) is encryption only.
constexpr std::array<std::pair<std::string_view, MtaTls>, 2> kVerify{{
    {"OK", MtaTls::verified},
    {"DANE_PASS", MtaTls::verified},
}};

// ", key=value" anywhere in `message`, up to the next ", ".
std::string_view value_of(std::string_view message, std::string_view key) {
  const auto at = message.find(key);
  if (at == std::string_view::npos) return {};
  auto value = message.substr(at + key.size());
  return value.substr(0, value.find(", "));
}

bool valid_sendmail_queue_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (const char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

}  // namespace

bool MtaLogReader::split_sendmail_line(std::string_view line, std::string_view& process, std::string_view& message) {
  const auto end = line.find("]: ");
  if (end == std::string_view::npos) return false;
  const auto space = line.rfind(' ', end);
  const auto start = space == std::string_view::npos ? 0 : space + 1;
  process = line.substr(start, end + 1 - start);
  const auto open = process.find('[');
  if (open == std::string_view::npos) return false;
  const auto program = process.substr(0, open);
  if (program != "sendmail" && !program.starts_with("sm-mta")) return false;
  const auto pid = process.substr(open + 1, process.size() - open - 2);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos) return false;
  message = line.substr(end + 3);
  return true;
}

std::optional<MtaDelivery> MtaLogReader::read_sendmail(std::string_view process, std::string_view message) {
  // The session of `relay`: a line naming another relay starts a new one;
  // one left without a relay (a failed handshake's lines name none) takes it.
  const auto fresh = [&](std::string_view relay) -> Session& {
    auto& s = session(process);
    if (!s.relay.empty() && s.relay != relay) s = Session{};
    s.relay = std::string(relay.substr(0, 300));
    return s;
  };
  if (message.starts_with("STARTTLS=client, relay=")) {
    const auto relay = value_of(message, "relay=");
    if (relay.empty() || message.find(", error:") != std::string_view::npos) return std::nullopt;
    auto& s = fresh(relay);
    const auto verify = value_of(message, ", verify=");
    s.tls = MtaTls::untrusted;  // FAIL, NO, NONE, ...: encrypted, not verified
    for (const auto& [word, tls] : kVerify)
      if (verify == word) s.tls = tls;
    s.handshake_failed = false;
    return std::nullopt;
  }
  if (message.starts_with("STARTTLS=client, error: ")) {
    // A new handshake that failed; 8.17 names no relay here, the
    // tls_server line that follows does.
    const auto relay = value_of(message, ", relay=");
    auto& s = session(process);
    s = Session{};
    s.relay = std::string(relay.substr(0, 300));
    s.handshake_failed = true;
    if (!s.problem) {
      s.problem = library_problem(value_of(message, ", reason=")).value_or(Reason::handshake_failed);
      s.evidence = std::string(message.substr(0, 200));
    }
    return std::nullopt;
  }
  if (message.starts_with("STARTTLS=client: ") || (message.starts_with("STARTTLS: ") && message.find(" error") != std::string_view::npos)) {
    // OpenSSL's error queue, logged before or after the "error:" line: a
    // specific reason replaces the generic one.
    if (const auto reason = library_problem(message)) {
      auto& s = session(process);
      if (!s.problem || s.problem == Reason::handshake_failed) {
        s.problem = reason;
        s.evidence = std::string(message.substr(0, 200));
      }
    }
    return std::nullopt;
  }
  if (message.starts_with("ruleset=tls_server, ")) {
    const auto relay = value_of(message, ", relay=");
    if (relay.empty()) return std::nullopt;
    auto& s = fresh(relay);
    if (!s.problem) {
      s.problem = Reason::handshake_failed;
      s.evidence = std::string(message.substr(0, 200));
    }
    return std::nullopt;
  }

  // "QID: to=<A>[,<B>], ..., relay=R [ADDR], dsn=D, stat=TEXT"
  const auto colon = message.find(": to=");
  if (colon == std::string_view::npos || !valid_sendmail_queue_id(message.substr(0, colon))) return std::nullopt;
  const auto stat_at = message.find(", stat=");
  if (stat_at == std::string_view::npos) return std::nullopt;
  auto to = message.substr(colon + 5);
  to = to.substr(0, to.find_first_of(",>"));
  if (to.starts_with('<')) to.remove_prefix(1);
  MtaDelivery d;
  d.queue_id = std::string(message.substr(0, colon));
  d.domain = recipient_domain(to);
  d.relay = std::string(value_of(message.substr(0, stat_at), ", relay=").substr(0, 300));
  const auto stat = message.substr(stat_at + 7);
  const auto dsn = value_of(message.substr(0, stat_at), ", dsn=");
  d.status = stat.starts_with("Sent") ? "sent" : stat.starts_with("Deferred") || dsn.starts_with('4') ? "deferred"
             : dsn.starts_with('5')                                          ? "bounced"
                                                                             : "";
  if (d.domain.empty() || d.status.empty()) return std::nullopt;
  const auto it = sessions_.find(process);
  const Session* s = it != sessions_.end() && same_relay(it->second.relay, d.relay) ? &it->second : nullptr;
  if (d.status == "sent") {
    d.tls = s ? s->tls : MtaTls::none;
    if (s && s->problem) d.reason = s->problem, d.evidence = s->evidence;
    return d;
  }
  for (const auto& t : kStatTexts) {
    if (stat.find(t.text) == std::string_view::npos) continue;
    d.reason = t.reason;
    d.evidence = std::string(stat.substr(0, 200));
    if (!t.reason) {
      d.reason = s && s->problem ? *s->problem : Reason::handshake_failed;
      if (s && s->problem) d.evidence = s->evidence;
    }
    break;
  }
  return d;
}

}  // namespace mxtls
