#include "classify/classifier.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "tls/sendmail_access.h"

namespace mxtls {
namespace {

// A greeting slower than this is a finding: many clients (and mxtls's
// probes before they followed the MTA's timeouts) give up after 10 s.
constexpr double kSlowGreetingSeconds = 10.0;

bool is_legacy_digest(const std::string& d) { return d == "SHA1" || d == "MD5" || d == "MD5-SHA1"; }

Reason reason_for_verify_code(int code) {
  switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return Reason::cert_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return Reason::cert_not_yet_valid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return Reason::cert_self_signed;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK: return Reason::weak_key;
    case X509_V_ERR_HOSTNAME_MISMATCH: return Reason::cert_host_mismatch;
    default: return Reason::cert_untrusted_chain;
  }
}

// Certificate findings in the order an operator should fix them.
constexpr Reason kCertificateOrder[] = {Reason::sni_dependent, Reason::cert_expired, Reason::cert_not_yet_valid,
                                        Reason::cert_self_signed, Reason::cert_untrusted_chain, Reason::weak_key,
                                        Reason::cert_host_mismatch, Reason::legacy_sigalg, Reason::dh_too_small};

// Finite-field DH groups under this many bits are a finding wherever our MTA
// still takes them: OpenSSL's security level 2 (and RFC 7919's smallest group).
constexpr int kDhBitsWanted = 2048;

void add_finding(std::vector<Reason>& findings, Reason r) {
  if (std::find(findings.begin(), findings.end(), r) == findings.end()) findings.push_back(r);
}

const HandshakeResult* other_sni_handshake(const MxProbe& mx) {
  // The survey ran with the opposite SNI choice; its newest successful
  // handshake shows the certificate the compat handshake did not get.
  for (auto it = mx.survey.rbegin(); it != mx.survey.rend(); ++it)
    if (it->ok && !it->chain.empty()) return &*it;
  return nullptr;
}

// An anonymous session (Postfix: "Anonymous TLS connection established")
// has no certificate to judge: TLS working as an unauthenticated level is
// configured. What a survey handshake that did get the server's
// certificate shows without our trust anchors (dates, key size) still counts.
std::string anonymous_certificate_findings(const MxProbe& mx, std::vector<Reason>& findings) {
  std::string detail = "; anonymous TLS: the server chose a cipher without a certificate, nothing to verify";
  const HandshakeResult* other = other_sni_handshake(mx);
  if (!other) return detail;
  const auto& leaf = other->chain.front();
  const std::time_t now = std::time(nullptr);
  if (leaf.not_after != 0 && leaf.not_after < now) add_finding(findings, Reason::cert_expired);
  if (leaf.not_before > now) add_finding(findings, Reason::cert_not_yet_valid);
  if (key_is_weak(leaf)) add_finding(findings, Reason::weak_key);
  return detail + " (its certificate, from the survey: " + leaf.subject + ")";
}

Verdict classify_completed_handshake(const MxProbe& mx, const ClientProfile& profile) {
  Verdict v;
  const auto& hs = mx.compat;
  std::vector<Reason> findings;
  bool verify_failed = false;
  std::string anonymous_detail;
  if (hs.anonymous()) {
    anonymous_detail = anonymous_certificate_findings(mx, findings);
  } else {
    for (const auto& issue : hs.verify_issues) {
      add_finding(findings, reason_for_verify_code(issue.code));
      verify_failed = true;
    }
    if (key_is_weak(hs.chain.front())) add_finding(findings, Reason::weak_key);
    if (!hs.host_matches && !profile.match.empty()) add_finding(findings, Reason::cert_host_mismatch);
    const HandshakeResult* other = other_sni_handshake(mx);
    if (other && other->chain.front().sha256 != hs.chain.front().sha256) add_finding(findings, Reason::sni_dependent);
  }
  if (is_legacy_digest(hs.peer_signature_digest)) add_finding(findings, Reason::legacy_sigalg);
  if (hs.dh_bits > 0 && hs.dh_bits < kDhBitsWanted) add_finding(findings, Reason::dh_too_small);

  std::sort(findings.begin(), findings.end(), [](Reason a, Reason b) {
    const auto rank = [](Reason r) { return std::find(std::begin(kCertificateOrder), std::end(kCertificateOrder), r) - std::begin(kCertificateOrder); };
    return rank(a) < rank(b);
  });
  const bool breaks = level_authenticates(profile.level) && (verify_failed || (!hs.host_matches && !profile.match.empty()));
  v.findings = findings;
  v.outcome = breaks ? Outcome::deferred : Outcome::tls;
  v.severity = breaks ? Severity::incompatible : findings.empty() ? Severity::ok : Severity::warning;
  v.reason = findings.empty() ? Reason::ok : findings.front();
  v.detail = hs.version + " " + hs.cipher + anonymous_detail;
  if (hs.dh_bits > 0) v.detail += "; DH group " + std::to_string(hs.dh_bits) + " bits";
  for (const auto& issue : hs.verify_issues)
    v.detail += "; verify error " + std::to_string(issue.code) + " at depth " + std::to_string(issue.depth) + ": " + issue.text;
  if (!hs.host_matches && !profile.match.empty()) v.detail += "; certificate does not name " + mx.host;
  return v;
}

// Failures found before DANE applies: no address to connect to, or a probe
// refused or broken on our side. Postfix's DANE decision needs the address
// records, so these come first; a connection failure does not (Postfix,
// deferring at dane_init, never connects).
bool fails_before_dane(Reason r) {
  return r == Reason::dns_failure || r == Reason::dnssec_bogus || r == Reason::target_forbidden || r == Reason::probe_error;
}

std::string tlsa_summary(const dns::TlsaRecord& r) { return dns::tlsa_text(r, 12); }

// A completed handshake under TLSA authentication: Postfix trusts the peer
// exactly when OpenSSL's verification (DANE on) ends in X509_V_OK.
Verdict classify_dane_handshake(const MxProbe& mx, const ClientProfile& profile, const DaneDecision& decision) {
  Verdict v;
  const auto& hs = mx.compat;
  const auto& out = hs.dane;
  const auto setup = dane_setup(mx.host, mx.dane);
  v.detail = hs.version + " " + hs.cipher + "; " + decision.why;
  if (out.authenticated()) {
    v.outcome = Outcome::tls;
    if (out.matched_record >= 0 && static_cast<std::size_t>(out.matched_record) < setup.records.size())
      v.detail += "; TLSA " + tlsa_summary(setup.records[static_cast<std::size_t>(out.matched_record)]) + " matched";
    v.detail += " \"" + out.matched_subject + "\" at depth " + std::to_string(out.matched_depth);
    const auto left = static_cast<long long>(out.matched_not_after) - static_cast<long long>(std::time(nullptr));
    if (out.matched_not_after != 0 && left < static_cast<long long>(profile.expiry_warning.count())) {
      v.reason = Reason::tlsa_expiring;
      v.severity = Severity::warning;
      v.detail += ", which expires " + format_date(out.matched_not_after) + " (" + std::to_string(left / 86400) +
                  " days): no TLSA record matches anything else";
    }
    return v;
  }
  v.outcome = Outcome::deferred;
  v.severity = Severity::incompatible;
  // A record matches where it may (DANE-EE the server's certificate, DANE-TA
  // an issuer) but the chain failed a later check (a DANE-TA(2) chain with an
  // expired certificate or without the MX host name): that check's reason.
  bool placed_match = false;
  for (std::size_t i = 0; i < setup.records.size() && i < out.record_depths.size(); ++i) {
    const int depth = out.record_depths[i];
    placed_match = placed_match || (setup.records[i].usage == 3 && depth == 0) || (setup.records[i].usage == 2 && depth >= 1);
  }
  v.reason = placed_match && out.verify_result > 0 && out.verify_result != X509_V_ERR_DANE_NO_MATCH
                 ? reason_for_verify_code(static_cast<int>(out.verify_result))
                 : Reason::tlsa_mismatch;
  v.detail += "; no usable TLSA record authenticates the server";
  if (out.verify_result > 0)
    v.detail += " (verify error " + std::to_string(out.verify_result) + ": " +
                X509_verify_cert_error_string(out.verify_result) + ")";
  return v;
}

Verdict classify_host_at(const MxProbe& mx, const ClientProfile& profile);

// sendmail: the access map's Try_TLS and TLS_Srv entries for this MX host
// (its name, parent domains, address) decide whether STARTTLS is tried and
// what the session must be (tls/sendmail_access.h); a requirement not met
// defers, or bounces with PERM+ (5.7.0).
Verdict classify_sendmail_host(const MxProbe& mx, const ClientProfile& profile) {
  const SendmailRequirement req = server_requirement(*profile.sendmail_access, mx.host, mx.address);
  ClientProfile p = profile;
  if (req.requires_tls()) p.level = std::max(p.level, req.verify ? SecurityLevel::verify : SecurityLevel::encrypt);
  std::string try_rule;
  const bool tries = tries_starttls(*profile.sendmail_access, mx.host, mx.address, try_rule);
  Verdict v;
  if (!tries && !mx.failure && !req.requires_tls()) {
    v.outcome = Outcome::plaintext;
    v.detail = "Sendmail does not try STARTTLS (" + try_rule + ")";
  } else if (!tries && !mx.failure) {
    MxProbe clear = mx;
    clear.starttls_offered = false;
    v = classify_host_at(clear, p);
    v.detail = "Sendmail does not try STARTTLS (" + try_rule + ") but " + req.rule + " requires TLS";
  } else {
    v = classify_host_at(mx, p);
  }
  if (v.outcome == Outcome::tls && req.min_bits > mx.compat.cipher_bits) {
    v.outcome = Outcome::deferred;
    v.severity = Severity::incompatible;
    v.reason = Reason::no_shared_cipher;
    v.detail += "; cipher " + mx.compat.cipher + " has " + std::to_string(mx.compat.cipher_bits) + " bits, fewer than " + req.rule + " asks";
  }
  if (v.outcome == Outcome::deferred && req.permanent && !reason_info(v.reason).transport) v.outcome = Outcome::bounced;
  if (!req.rule.empty()) v.detail += "; " + req.rule;
  return v;
}

// dane, dane-only: the level Postfix's dane_init gives this host, then the
// rules of that level (may, encrypt) or TLSA authentication.
Verdict classify_dane_host(const MxProbe& mx, const ClientProfile& profile) {
  const DaneDecision d = decide_dane(profile, mx.dane);
  if (d.mode == DaneMode::defer && !(mx.failure && fails_before_dane(*mx.failure))) {
    Verdict v;
    v.reason = d.reason;
    v.severity = reason_info(d.reason).transport ? Severity::unreachable : Severity::incompatible;
    v.outcome = Outcome::deferred;
    v.detail = d.why;
    return v;
  }
  const SecurityLevel effective = d.mode == DaneMode::may ? SecurityLevel::may
                                  : d.mode == DaneMode::encrypt ? SecurityLevel::encrypt
                                                                : SecurityLevel::dane;
  const ClientProfile ep = effective_profile(profile, effective);
  const bool completed = !mx.failure && mx.starttls_offered && mx.starttls_code == 220 && mx.compat.ok;
  Verdict v = d.mode == DaneMode::dane && completed ? classify_dane_handshake(mx, ep, d) : classify_host_at(mx, ep);
  if (d.reason == Reason::tlsa_unusable) {
    // Delivered unauthenticated where the domain meant to authenticate: that
    // comes before what an unauthenticated level only notes (names, chain).
    std::erase(v.findings, Reason::tlsa_unusable);
    v.findings.insert(v.findings.begin(), Reason::tlsa_unusable);
    if (v.outcome != Outcome::deferred) {
      v.reason = Reason::tlsa_unusable;
      v.severity = Severity::warning;
    }
    v.detail = d.why + "; " + v.detail;
  }
  return v;
}

}  // namespace

Reason classify_handshake_failure(const MxProbe& mx, const ClientProfile& profile) {
  const auto& hs = mx.compat;
  if (hs.timed_out) return Reason::timeout;
  // The server asked for our certificate, got none (Postfix sends none
  // without smtp_tls_cert_file) and ended the handshake.
  if (hs.client_cert_requested && hs.alert_received >= 0) return Reason::client_cert_required;
  const VersionSet server = mx.server_versions();
  const VersionSet common = server.intersect(profile.effective_versions());
  if (!server.empty() && common.empty()) return Reason::protocol_version;
  switch (hs.ssl_reason) {
    case SSL_R_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED: return Reason::legacy_sigalg;
    case SSL_R_EE_KEY_TOO_SMALL:
    case SSL_R_CA_KEY_TOO_SMALL:
    case SSL_R_CA_MD_TOO_WEAK:
    case SSL_R_BAD_DH_VALUE: return Reason::weak_key;
    case SSL_R_DH_KEY_TOO_SMALL: return Reason::dh_too_small;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
      if (server.empty() || common.empty()) return Reason::protocol_version;
      break;
    default: break;
  }
  const bool cipher_level_failure = hs.alert_received == SSL_AD_HANDSHAKE_FAILURE || hs.alert_received == SSL_AD_INSUFFICIENT_SECURITY ||
                                    hs.ssl_reason == SSL_R_NO_CIPHERS_AVAILABLE || hs.ssl_reason == SSL_R_NO_SHARED_CIPHER ||
                                    hs.ssl_reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE;
  if (cipher_level_failure) {
    // A version in common that the permissive survey completed with a SHA-1
    // or MD5 signature: the server cannot sign the way our profile accepts.
    for (auto ver : kTlsVersions) {
      const auto& s = mx.survey[static_cast<std::size_t>(ver)];
      if (common.has(ver) && s.ok && is_legacy_digest(s.peer_signature_digest)) return Reason::legacy_sigalg;
    }
    return Reason::no_shared_cipher;
  }
  return Reason::handshake_failed;
}

Verdict classify_host(const MxProbe& mx, const ClientProfile& profile) {
  Verdict v = level_is_dane(profile.level) ? classify_dane_host(mx, profile)
              : profile.sendmail_access     ? classify_sendmail_host(mx, profile)
                                            : classify_host_at(mx, profile);
  if (!mx.failure && mx.greeting_s > kSlowGreetingSeconds) {
    // Our MTA waits (the probe waited as long: step_timeouts.h); worth a note, not a problem.
    char took[64];
    std::snprintf(took, sizeof took, "the greeting took %.1fs", mx.greeting_s);
    if (v.reason == Reason::ok) {
      v.reason = Reason::slow_greeting;
      v.severity = Severity::warning;
      v.detail = took + (v.detail.empty() ? std::string() : "; " + v.detail);
    } else {
      add_finding(v.findings, Reason::slow_greeting);
    }
  }
  if (v.reason != Reason::ok) add_finding(v.findings, v.reason);
  return v;
}

namespace {

// How small the group our profile refused is, as the survey (which takes
// any group) measured it.
std::string dh_group_note(const MxProbe& mx) {
  int bits = 0;
  for (const auto& s : mx.survey) bits = std::max(bits, s.dh_bits);
  return bits ? "; the server's DH group has " + std::to_string(bits) + " bits" : "";
}

// A failed or stalled handshake where TLS is optional: what the MTA does
// (ClientProfile::on_handshake_failure). A session the server ended after
// the handshake completed is no handshake failure to Sendmail: it reads
// "read error" and defers, with or without TLSFallbacktoClear.
Outcome failed_handshake_outcome(const ClientProfile& profile, const HandshakeResult& hs) {
  if (hs.refused_after_handshake && profile.on_handshake_failure == HandshakeFailure::plaintext) return Outcome::deferred;
  switch (profile.on_handshake_failure) {
    case HandshakeFailure::deferred: return Outcome::deferred;
    case HandshakeFailure::plaintext: return Outcome::plaintext;
    case HandshakeFailure::plaintext_after_delay: break;
  }
  return Outcome::plaintext_after_delay;
}

Verdict classify_host_at(const MxProbe& mx, const ClientProfile& profile) {
  Verdict v;
  const bool plaintext_fallback = !level_requires_tls(profile.level);
  if (mx.failure) {
    v.reason = *mx.failure;
    v.severity = reason_info(v.reason).transport ? Severity::unreachable : Severity::incompatible;
    v.outcome = *mx.failure == Reason::banner_rejected && profile.bounces_on_5xx_greeting && mx.banner.starts_with('5')
                    ? Outcome::bounced
                    : Outcome::deferred;
    v.detail = mx.failure_detail;
  } else if (profile.level == SecurityLevel::none) {
    v.reason = Reason::ok;
    v.outcome = Outcome::plaintext;
    v.detail = "TLS disabled by security level none";
  } else if (!mx.starttls_offered) {
    v.reason = Reason::starttls_not_offered;
    v.severity = plaintext_fallback ? Severity::warning : Severity::incompatible;
    v.outcome = plaintext_fallback ? Outcome::plaintext : Outcome::deferred;
    v.detail = "EHLO reply lacks STARTTLS";
  } else if (mx.starttls_code != 220) {
    v.reason = Reason::starttls_refused;
    v.severity = Severity::incompatible;
    v.outcome = plaintext_fallback ? Outcome::plaintext : Outcome::deferred;
    v.detail = "STARTTLS answered " + std::to_string(mx.starttls_code) + " " + mx.starttls_reply;
  } else if (mx.compat.timed_out) {
    // A stalled handshake says nothing lasting about TLS: transient, so
    // retried with backoff and never cached as an incompatibility.
    v.reason = Reason::timeout;
    v.severity = Severity::unreachable;
    v.outcome = plaintext_fallback ? failed_handshake_outcome(profile, mx.compat) : Outcome::deferred;
    v.detail = "TLS handshake stalled after STARTTLS: " + mx.compat.error;
  } else if (!mx.compat.ok) {
    v.reason = classify_handshake_failure(mx, profile);
    v.severity = Severity::incompatible;
    v.outcome = plaintext_fallback ? failed_handshake_outcome(profile, mx.compat) : Outcome::deferred;
    v.detail = mx.compat.error;
    if (mx.compat.alert_received >= 0) v.detail += " (alert " + std::to_string(mx.compat.alert_received) + ")";
    v.detail += "; server accepts " + mx.server_versions().to_string() + ", we can use " + profile.effective_versions().to_string();
    if (v.reason == Reason::dh_too_small) v.detail += dh_group_note(mx);
  } else {
    v = classify_completed_handshake(mx, profile);
  }
  return v;
}

}  // namespace

DestinationVerdict classify_destination(const DestinationProbe& probe, const ClientProfile& profile) {
  DestinationVerdict out;
  if (probe.dns_failure) {
    out.overall.reason = *probe.dns_failure;
    out.overall.severity = reason_info(*probe.dns_failure).transport ? Severity::unreachable : Severity::incompatible;
    const bool temporary = *probe.dns_failure == Reason::dns_failure || *probe.dns_failure == Reason::dnssec_bogus;
    out.overall.outcome = temporary ? Outcome::deferred : Outcome::bounced;
    out.overall.detail = probe.dns_detail;
    out.overall.findings = {*probe.dns_failure};
    return out;
  }
  for (const auto& mx : probe.hosts) out.hosts.push_back(classify_host(mx, profile));
  decide_overall(out, probe);
  return out;
}

void decide_overall(DestinationVerdict& out, const DestinationProbe& probe) {
  if (out.hosts.empty()) {
    out.overall = {Reason::no_mx, Severity::unreachable, Outcome::bounced, "no MX host to probe", {Reason::no_mx}};
    return;
  }
  out.overall = {};
  // Postfix tries the addresses in order and moves to the next after any
  // failure up to and including the TLS handshake and its checks
  // (smtp_connect.c: those do not even count towards smtp_mx_session_limit).
  // The first address that takes the mail at once decides; failing that,
  // the first whose handshake failed under may, which a retry after
  // minimal_backoff_time reaches in plaintext; else the mail is deferred.
  const auto first = [&out](auto wanted) {
    return std::find_if(out.hosts.begin(), out.hosts.end(), [&](const Verdict& v) { return wanted(v.outcome); });
  };
  auto decisive = first([](Outcome o) { return o == Outcome::tls || o == Outcome::plaintext; });
  if (decisive == out.hosts.end()) decisive = first([](Outcome o) { return o == Outcome::plaintext_after_delay; });
  if (decisive == out.hosts.end()) decisive = out.hosts.begin();
  out.decisive = static_cast<std::size_t>(decisive - out.hosts.begin());
  out.overall = *decisive;
  for (std::size_t i = 0; i < out.hosts.size(); ++i) {
    const Verdict& v = out.hosts[i];
    for (Reason r : v.findings) add_finding(out.overall.findings, r);
    if (i != out.decisive && v.severity != Severity::ok && out.overall.severity == Severity::ok) {
      out.overall.severity = Severity::warning;
      out.overall.reason = v.reason;
      const std::string where = i < probe.hosts.size() ? format_mx(probe.hosts[i]) : std::string("another MX host");
      out.overall.detail = (i < out.decisive ? "tried first, failed: " : "another address: ") + where + ": " + v.detail;
    }
  }
}

}  // namespace mxtls
