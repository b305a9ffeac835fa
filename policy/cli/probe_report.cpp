#include "cli/probe_report.h"

#include <ctime>

#include "classify/probe_log.h"
#include "log/sanitize.h"
#include "sts/judge.h"

namespace mxtls {
namespace {

std::string outcome_phrase(Outcome o, SecurityLevel level) {
  switch (o) {
    case Outcome::tls: return "delivered with TLS";
    case Outcome::plaintext: return level == SecurityLevel::none ? "delivered in plaintext" : "delivered in plaintext (opportunistic TLS falls back)";
    case Outcome::plaintext_after_delay:
      return "deferred at first, then delivered in plaintext once queued for minimal_backoff_time";
    case Outcome::deferred: return "deferred (would wait in the queue)";
    case Outcome::bounced: return "bounced (returned to the sender)";
  }
  return "";
}

std::string handshake_line(const HandshakeResult& hs) {
  if (!hs.attempted) return "not attempted";
  if (!hs.ok) return "failed: " + sanitize(hs.error) + (hs.alert_received >= 0 ? " (alert " + std::to_string(hs.alert_received) + ")" : "");
  std::string s = hs.version + " " + hs.cipher;
  if (!hs.peer_signature_digest.empty()) s += ", signed with " + hs.peer_signature_digest;
  if (hs.dh_bits) s += ", DH " + std::to_string(hs.dh_bits) + " bits";
  if (hs.anonymous()) s += ", anonymous (no certificate)";
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

Json json_certificate(const CertificateInfo& c, std::time_t now) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"dns_names", c.dns_names},
          {"key_type", c.key_type},
          {"key_bits", c.key_bits},
          {"signature_algorithm", c.signature_algorithm},
          {"not_before", format_date(c.not_before)},
          {"not_after", format_date(c.not_after)},
          {"days_left", c.days_left(now)},
          {"sha256", c.sha256}};
}

Json json_handshake(const HandshakeResult& hs, std::time_t now) {
  Json j{{"attempted", hs.attempted}, {"ok", hs.ok}};
  if (hs.ok) {
    j["version"] = hs.version;
    j["cipher"] = hs.cipher;
    j["signature_digest"] = hs.peer_signature_digest;
    j["dh_bits"] = hs.dh_bits;
    j["anonymous"] = hs.anonymous();
  } else if (hs.attempted) {
    j["error"] = hs.error;
    j["alert"] = hs.alert_received;
    j["timed_out"] = hs.timed_out;
  }
  j["sni_sent"] = hs.sni_sent;
  j["client_cert_requested"] = hs.client_cert_requested;
  if (hs.ok) {
    j["host_matches"] = hs.host_matches;
    j["verify_errors"] = Json::array();
    for (const auto& i : hs.verify_issues)
      j["verify_errors"].push_back({{"code", i.code}, {"depth", i.depth}, {"text", i.text}});
    j["chain"] = Json::array();
    for (const auto& c : hs.chain) j["chain"].push_back(json_certificate(c, now));
  }
  return j;
}

// At most this many TLSA records are listed per host (a hostile RRset may
// hold thousands), and this much of each one's data.
constexpr std::size_t kTextTlsaRecords = 20, kJsonTlsaRecords = 100, kTlsaDataShown = 32;

std::string dnssec_line(const DaneFacts& f) {
  std::string s = (f.mx_present ? "MX RRset " + std::string(dns::security_name(f.mx_security)) + ", " : std::string()) +
                  "address " + std::string(dns::security_name(f.address_security));
  if (!f.validating) s += " (no DNSSEC validation: [dns] trust_anchor is empty)";
  return s;
}

std::string tlsa_lookup_line(const DaneFacts& f) {
  if (f.tlsa == TlsaLookup::skipped) return "not looked up";
  std::string s = sanitize(f.tlsa_name, 120) + ": " + std::string(tlsa_lookup_name(f.tlsa));
  if (f.tlsa == TlsaLookup::found) s += ", " + std::to_string(f.records_total) + " record(s)";
  if (f.malformed) s += ", " + std::to_string(f.malformed) + " malformed";
  if (f.tlsa != TlsaLookup::found && !f.tlsa_detail.empty()) s += " (" + sanitize(f.tlsa_detail, 160) + ")";
  return s;
}

void text_dane(std::string& out, const MxProbe& mx, const ClientProfile& profile) {
  const auto& f = mx.dane;
  const auto d = decide_dane(profile, f);
  out += "    DNSSEC       " + dnssec_line(f) + "\n";
  out += "    TLSA lookup  " + tlsa_lookup_line(f) + "\n";
  const auto records = explain_tlsa(f, mx.compat.dane, kTextTlsaRecords, kTlsaDataShown);
  for (const auto& r : records) {
    out += "    TLSA         " + r.text + "  " + r.mnemonic + "\n";
    out += "                 " + r.status + ": " + sanitize(r.why, 200) + "\n";
  }
  if (f.records.size() > records.size())
    out += "                 ... and " + std::to_string(f.records_total - records.size()) + " more record(s)\n";
  out += "    DANE         " + std::string(dane_mode_name(d.mode)) + (d.half_dane ? " (half-dane)" : "") + ": " + sanitize(d.why, 200) + "\n";
}

Json json_dane(const MxProbe& mx, const ClientProfile& profile) {
  const auto& f = mx.dane;
  const auto d = decide_dane(profile, f);
  Json records = Json::array();
  for (const auto& r : explain_tlsa(f, mx.compat.dane, kJsonTlsaRecords, dns::kMaxTlsaData))
    records.push_back({{"record", r.text}, {"mnemonic", r.mnemonic}, {"status", r.status}, {"why", r.why}, {"depth", r.depth}});
  Json j{{"validating", f.validating},
         {"mx_present", f.mx_present},
         {"mx_security", std::string(dns::security_name(f.mx_security))},
         {"address_security", std::string(dns::security_name(f.address_security))},
         {"tlsa_name", f.tlsa_name},
         {"tlsa_lookup", std::string(tlsa_lookup_name(f.tlsa))},
         {"tlsa_security", std::string(dns::security_name(f.tlsa_security))},
         {"tlsa_detail", f.tlsa_detail},
         {"records_total", f.records_total},
         {"records_malformed", f.malformed},
         {"records", std::move(records)},
         {"mode", std::string(dane_mode_name(d.mode))},
         {"half_dane", d.half_dane},
         {"decision_reason", std::string(reason_code(d.reason))},
         {"why", d.why}};
  const auto& o = mx.compat.dane;
  j["authenticated"] = o.authenticated();
  if (o.enabled) {
    j["usable_in_openssl"] = o.usable;
    j["verify_result"] = o.verify_result;
    j["matched_depth"] = o.matched_depth;
    j["matched_subject"] = o.matched_subject;
    if (o.matched_not_after) j["matched_not_after"] = format_date(o.matched_not_after);
  }
  return j;
}

Json json_verdict(const Verdict& v) {
  Json findings = Json::array();
  for (Reason r : v.findings) findings.push_back(std::string(reason_code(r)));
  return {{"verdict", std::string(severity_name(v.severity))},
          {"reason", std::string(reason_code(v.reason))},
          {"outcome", std::string(outcome_name(v.outcome))},
          {"rfc8460", std::string(reason_info(v.reason).rfc8460)},
          {"remediation", std::string(reason_info(v.reason).remediation)},
          {"detail", v.detail},
          {"findings", std::move(findings)}};
}


std::string time_text(int64_t t) {
  if (t <= 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

void text_sts(std::string& out, const sts::Lookup& l) {
  if (!l.checked) return;
  out += "  MTA-STS   ";
  if (l.record.empty()) out += "no _mta-sts TXT record";
  else out += "record \"" + sanitize(l.record, 120) + "\"";
  out += "\n";
  if (l.policy) {
    const auto& p = *l.policy;
    std::string mx;
    for (const auto& m : p.mx) mx += " " + sanitize(m, 80);
    out += "            policy " + std::string(sts::mode_name(p.mode)) + ", max_age " + std::to_string(p.max_age) + ", mx" +
           (mx.empty() ? " (none)" : mx) + "\n";
    out += "            " + std::string(l.cached ? "cached (fetched " : "fetched ") + time_text(l.fetched_at) +
           (l.cached ? ")" : "") + " from " + sanitize(l.policy_url, 120) + ", expires " + time_text(l.expires_at) + "\n";
  } else if (!l.record.empty()) {
    out += "            no policy in force\n";
  }
  if (l.problem)
    out += "            problem " + std::string(reason_code(*l.problem)) + ": " + sanitize(l.problem_detail, 300) + "\n";
}

void text_sts_host(std::string& out, const MxProbe& mx, const sts::Lookup& l) {
  if (!l.policy || l.policy->mode == sts::Mode::none) return;
  out += "    MTA-STS      " + sanitize(sts::explain_mx_match(*l.policy, mx.host), 200) + "\n";
  if (mx.sts.attempted) {
    out += "                 under the policy: " + handshake_line(mx.sts);
    if (mx.sts.ok) {
      out += std::string(", certificate ") + (mx.sts.host_matches ? "matches" : "matches no") + " mx pattern";
      out += mx.sts.verify_issues.empty() ? ", chain verifies" : ", verify error " + std::to_string(mx.sts.verify_issues.front().code) +
                                                                     ": " + mx.sts.verify_issues.front().text;
    }
    out += "\n";
  }
}

Json json_sts(const sts::Lookup& l) {
  Json j{{"checked", l.checked}, {"record", l.record}, {"id", l.id}, {"url", l.policy_url}, {"address", l.policy_address}};
  if (l.policy) {
    j["policy"] = {{"mode", std::string(sts::mode_name(l.policy->mode))},
                   {"max_age", l.policy->max_age},
                   {"mx", l.policy->mx},
                   {"lines", l.policy->lines}};
    j["cached"] = l.cached;
    j["fetched_at"] = time_text(l.fetched_at);
    j["expires_at"] = time_text(l.expires_at);
  } else {
    j["policy"] = nullptr;
  }
  j["problem"] = l.problem ? Json(std::string(reason_code(*l.problem))) : Json(nullptr);
  j["problem_detail"] = l.problem_detail;
  return j;
}

// How the MTA picks addresses: families, order, limit; and what it never tries.
std::string addresses_line(const DestinationProbe& probe, const ClientProfile& profile) {
  const auto& c = profile.connection;
  std::string s = c.ipv4 && c.ipv6 ? "IPv4 and IPv6" : c.ipv6 ? "IPv6 only" : "IPv4 only";
  if (c.ipv4 && c.ipv6)
    s += c.preference == AddressPreference::ipv4   ? ", IPv4 first"
         : c.preference == AddressPreference::ipv6 ? ", IPv6 first"
                                                    : ", equal preference in random order (judged IPv6 first)";
  s += ", at most " + (c.address_limit > 0 ? std::to_string(c.address_limit) : std::string("all")) + " tried";
  if (probe.addresses_beyond_limit > 0)
    s += "; " + std::to_string(probe.addresses_beyond_limit) + " more address(es) never tried (not probed)";
  return s;
}

}  // namespace

std::string render_text_report(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile) {
  const std::time_t now = std::time(nullptr);
  const auto& o = verdict.overall;
  std::string out = sanitize(probe.domain) + "  (profile " + profile.name + ", level " + std::string(level_name(profile.level)) +
                    ", protocols " + profile.versions.to_string() + ")\n";
  if (!profile.source.empty()) out += "  profile   " + profile.name + ": " + sanitize(profile.source, 300) + "\n";
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
  if (!probe.hosts.empty()) out += "  addresses " + addresses_line(probe, profile) + "\n";
  text_sts(out, probe.sts);
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    const auto& v = verdict.hosts[i];
    out += "\n  MX " + std::to_string(mx.preference) + " " + format_mx(mx) + "  (" + std::to_string(mx.elapsed_s).substr(0, 4) + "s" +
           (i == verdict.decisive ? ", decides" : "") + (mx.alternate ? ", another address of the host" : "") + ")\n";
    if (mx.failure) {
      out += "    failed       " + std::string(reason_code(*mx.failure)) + ": " + sanitize(mx.failure_detail) + "\n";
      if (level_is_dane(profile.level)) text_dane(out, mx, profile);
      continue;
    }
    out += "    banner       " + sanitize(mx.banner, 100) + "\n";
    if (mx.greeting_s >= 1.0) out += "    greeting     after " + std::to_string(mx.greeting_s).substr(0, 4) + "s\n";
    out += "    STARTTLS     " + std::string(!mx.starttls_offered ? "not offered"
                                             : mx.starttls_code == 220 ? "offered"
                                                                       : "refused: " + std::to_string(mx.starttls_code) + " " + sanitize(mx.starttls_reply, 100)) + "\n";
    if (mx.injected_bytes)
      out += "    warning      the server sent data after \"220\" to STARTTLS (would be injected into the TLS session)\n";
    if (level_is_dane(profile.level)) text_dane(out, mx, profile);
    if (mx.starttls_code == 220) {
      out += "    versions     " + (mx.alternate && mx.compat.ok ? std::string("not surveyed (another address of the host)")
                                                                 : mx.server_versions().to_string() + " (server accepts)") + "\n";
      out += "    compat       " + handshake_line(mx.compat) + "\n";
      text_certificate(out, mx.compat, now);
      // The session was anonymous: what the server does for verify and secure, which offer no anonymous cipher.
      if (mx.certified.attempted) out += "    no aNULL     " + handshake_line(mx.certified) + "\n";
    }
    text_sts_host(out, mx, probe.sts);
    out += "    verdict      " + std::string(severity_name(v.severity)) + ", " + std::string(reason_code(v.reason)) + ", " +
           outcome_phrase(v.outcome, profile.level) + "\n";
  }
  return out;
}

Json render_json_report(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile) {
  const std::time_t now = std::time(nullptr);
  Json hosts = Json::array();
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    Json host{{"host", mx.host},
              {"preference", mx.preference},
              {"address", mx.address},
              {"port", mx.port},
              {"alternate", mx.alternate},
              {"greeting_s", json_seconds(mx.greeting_s)},
              {"elapsed_s", json_seconds(mx.elapsed_s)}};
    if (mx.failure) {
      host["failure"] = std::string(reason_code(*mx.failure));
      host["failure_detail"] = mx.failure_detail;
    }
    host["banner"] = mx.banner;
    host["starttls_offered"] = mx.starttls_offered;
    host["starttls_reply_code"] = mx.starttls_code;
    host["starttls_injection"] = mx.injected_bytes;
    host["server_versions"] = Json::array();
    for (auto v : kTlsVersions)
      if (mx.server_versions().has(v)) host["server_versions"].push_back(std::string(version_name(v)));
    host["compat"] = json_handshake(mx.compat, now);
    host["survey"] = Json::object();
    for (auto v : kTlsVersions)
      host["survey"][std::string(version_name(v))] = json_handshake(mx.survey[static_cast<std::size_t>(v)], now);
    if (mx.certified.attempted) host["certified"] = json_handshake(mx.certified, now);
    if (level_is_dane(profile.level)) host["dane"] = json_dane(mx, profile);
    if (probe.sts.policy && probe.sts.policy->mode != sts::Mode::none) {
      host["mta_sts"] = {{"mx_matches", sts::policy_matches_mx(*probe.sts.policy, mx.host)},
                         {"explanation", sts::explain_mx_match(*probe.sts.policy, mx.host)},
                         {"handshake", json_handshake(mx.sts, now)},
                         {"certificate_matches_policy", mx.sts.ok && mx.sts.host_matches}};
    }
    host["result"] = json_verdict(verdict.hosts[i]);
    hosts.push_back(std::move(host));
  }
  return {{"destination", probe.domain},
          {"profile", profile.name},
          {"profile_source", profile.source},
          {"security_level", std::string(level_name(profile.level))},
          {"protocols", profile.versions.to_string()},
          {"elapsed_s", json_seconds(probe.elapsed_s)},
          {"addresses_beyond_limit", probe.addresses_beyond_limit},
          {"decisive", verdict.decisive},
          {"result", json_verdict(verdict.overall)},
          {"mta_sts", json_sts(probe.sts)},
          {"hosts", std::move(hosts)}};
}

}  // namespace mxtls
