#include "cli/probe_report.h"

#include <ctime>

#include "log/sanitize.h"
#include "classify/probe_log.h"

namespace mxtls {
namespace {

std::string outcome_phrase(Outcome o, SecurityLevel level) {
  switch (o) {
    case Outcome::tls: return "delivered with TLS";
    case Outcome::plaintext: return level == SecurityLevel::none ? "delivered in plaintext" : "delivered in plaintext (opportunistic TLS falls back)";
    case Outcome::plaintext_after_delay:
      return "deferred at first, then delivered in plaintext once queued for minimal_backoff_time";
    case Outcome::deferred: return "deferred (would wait in the queue)";
    case Outcome::bounced: return "bounced (the domain cannot receive mail)";
  }
  return "";
}

std::string handshake_line(const HandshakeResult& hs) {
  if (!hs.attempted) return "not attempted";
  if (!hs.ok) return "failed: " + sanitize(hs.error) + (hs.alert_received >= 0 ? " (alert " + std::to_string(hs.alert_received) + ")" : "");
  std::string s = hs.version + " " + hs.cipher;
  if (!hs.peer_signature_digest.empty()) s += ", signed with " + hs.peer_signature_digest;
  s += hs.sni_sent ? ", SNI sent" : ", no SNI";
  return s;
}

void text_certificate(std::string& out, const HandshakeResult& hs, std::time_t now) {
  if (hs.chain.empty()) return;
  const auto& leaf = hs.chain.front();
  out += "    certificate  " + sanitize(leaf.subject, 120) + "\n";
  out += "                 issuer " + sanitize(leaf.issuer, 120) + "\n";
  out += "                 key " + leaf.key_summary() + ", signature " + leaf.signature_algorithm + "\n";
  out += "                 valid " + format_date(leaf.not_before) + " to " + format_date(leaf.not_after) + " (" +
         std::to_string(leaf.days_left(now)) + " days left)\n";
  std::string names;
  for (const auto& n : leaf.dns_names) names += (names.empty() ? "" : ", ") + sanitize(n, 80);
  if (!names.empty()) out += "                 names " + names + "\n";
  out += "                 chain " + std::to_string(hs.chain.size()) + " certificate(s) sent, host name " +
         (hs.host_matches ? "matches" : "does not match") + "\n";
  if (hs.verify_issues.empty()) out += "    verify       ok\n";
  for (const auto& i : hs.verify_issues)
    out += "    verify       error " + std::to_string(i.code) + " at depth " + std::to_string(i.depth) + ": " + i.text + "\n";
}

void json_certificate(JsonWriter& j, const CertificateInfo& c, std::time_t now) {
  j.begin_object()
      .key("subject").value(c.subject)
      .key("issuer").value(c.issuer)
      .key("dns_names").begin_array();
  for (const auto& n : c.dns_names) j.value(n);
  j.end_array()
      .key("key_type").value(c.key_type)
      .key("key_bits").value(c.key_bits)
      .key("signature_algorithm").value(c.signature_algorithm)
      .key("not_before").value(format_date(c.not_before))
      .key("not_after").value(format_date(c.not_after))
      .key("days_left").value(static_cast<long long>(c.days_left(now)))
      .key("sha256").value(c.sha256)
      .end_object();
}

void json_handshake(JsonWriter& j, const HandshakeResult& hs, std::time_t now) {
  j.begin_object().key("attempted").value(hs.attempted).key("ok").value(hs.ok);
  if (hs.ok) j.key("version").value(hs.version).key("cipher").value(hs.cipher).key("signature_digest").value(hs.peer_signature_digest);
  else if (hs.attempted) j.key("error").value(hs.error).key("alert").value(hs.alert_received).key("timed_out").value(hs.timed_out);
  j.key("sni_sent").value(hs.sni_sent);
  if (hs.ok) {
    j.key("host_matches").value(hs.host_matches).key("verify_errors").begin_array();
    for (const auto& i : hs.verify_issues)
      j.begin_object().key("code").value(i.code).key("depth").value(i.depth).key("text").value(i.text).end_object();
    j.end_array().key("chain").begin_array();
    for (const auto& c : hs.chain) json_certificate(j, c, now);
    j.end_array();
  }
  j.end_object();
}

void json_verdict(JsonWriter& j, const Verdict& v) {
  j.begin_object()
      .key("verdict").value(severity_name(v.severity))
      .key("reason").value(reason_code(v.reason))
      .key("outcome").value(outcome_name(v.outcome))
      .key("rfc8460").value(reason_info(v.reason).rfc8460)
      .key("remediation").value(reason_info(v.reason).remediation)
      .key("detail").value(v.detail)
      .key("findings").begin_array();
  for (Reason r : v.findings) j.value(reason_code(r));
  j.end_array().end_object();
}

}  // namespace

std::string render_text_report(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile) {
  const std::time_t now = std::time(nullptr);
  const auto& o = verdict.overall;
  std::string out = sanitize(probe.domain) + "  (profile " + profile.name + ", level " + std::string(level_name(profile.level)) +
                    ", protocols " + profile.versions.to_string() + ")\n";
  out += "  verdict   " + std::string(severity_name(o.severity)) + ", reason " + std::string(reason_code(o.reason)) + "\n";
  out += "  mail      " + outcome_phrase(o.outcome, profile.level) + "\n";
  if (o.reason != Reason::ok) {
    out += "  why       " + sanitize(o.detail, 300) + "\n";
    out += "  fix       " + std::string(reason_info(o.reason).remediation) + "\n";
  }
  if (o.findings.size() > 1) {
    out += "  findings ";
    for (Reason r : o.findings) out += " " + std::string(reason_code(r));
    out += "\n";
  }
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    const auto& v = verdict.hosts[i];
    out += "\n  MX " + std::to_string(mx.preference) + " " + format_mx(mx) + "  (" + std::to_string(mx.elapsed_s).substr(0, 4) + "s)\n";
    if (mx.failure) {
      out += "    failed       " + std::string(reason_code(*mx.failure)) + ": " + sanitize(mx.failure_detail) + "\n";
      continue;
    }
    out += "    banner       " + sanitize(mx.banner, 100) + "\n";
    out += "    STARTTLS     " + std::string(!mx.starttls_offered ? "not offered"
                                             : mx.starttls_code == 220 ? "offered"
                                                                       : "refused: " + std::to_string(mx.starttls_code) + " " + sanitize(mx.starttls_reply, 100)) + "\n";
    if (mx.injected_bytes)
      out += "    warning      the server sent data after \"220\" to STARTTLS (would be injected into the TLS session)\n";
    if (mx.starttls_code == 220) {
      out += "    versions     " + mx.server_versions().to_string() + " (server accepts)\n";
      out += "    compat       " + handshake_line(mx.compat) + "\n";
      text_certificate(out, mx.compat, now);
    }
    out += "    verdict      " + std::string(severity_name(v.severity)) + ", " + std::string(reason_code(v.reason)) + ", " +
           outcome_phrase(v.outcome, profile.level) + "\n";
  }
  return out;
}

void render_json_report(JsonWriter& j, const DestinationProbe& probe, const DestinationVerdict& verdict,
                        const ClientProfile& profile) {
  const std::time_t now = std::time(nullptr);
  j.begin_object()
      .key("destination").value(probe.domain)
      .key("profile").value(profile.name)
      .key("security_level").value(level_name(profile.level))
      .key("protocols").value(profile.versions.to_string())
      .key("elapsed_s").value(probe.elapsed_s)
      .key("result");
  json_verdict(j, verdict.overall);
  j.key("hosts").begin_array();
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    j.begin_object()
        .key("host").value(mx.host)
        .key("preference").value(mx.preference)
        .key("address").value(mx.address)
        .key("port").value(mx.port)
        .key("elapsed_s").value(mx.elapsed_s);
    if (mx.failure) j.key("failure").value(reason_code(*mx.failure)).key("failure_detail").value(mx.failure_detail);
    j.key("banner").value(mx.banner)
        .key("starttls_offered").value(mx.starttls_offered)
        .key("starttls_reply_code").value(mx.starttls_code)
        .key("starttls_injection").value(mx.injected_bytes)
        .key("server_versions").begin_array();
    for (auto v : kTlsVersions)
      if (mx.server_versions().has(v)) j.value(version_name(v));
    j.end_array().key("compat");
    json_handshake(j, mx.compat, now);
    j.key("survey").begin_object();
    for (auto v : kTlsVersions) {
      j.key(version_name(v));
      json_handshake(j, mx.survey[static_cast<std::size_t>(v)], now);
    }
    j.end_object().key("result");
    json_verdict(j, verdict.hosts[i]);
    j.end_object();
  }
  j.end_array().end_object();
}

}  // namespace mxtls
