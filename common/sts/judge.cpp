#include "sts/judge.h"

#include <algorithm>

#include "classify/classifier.h"
#include "tls/certificate.h"
#include "util/ascii.h"

namespace mxtls::sts {
namespace {

void add_finding(std::vector<Reason>& findings, Reason r) {
  if (std::find(findings.begin(), findings.end(), r) == findings.end()) findings.push_back(r);
}

std::string patterns_text(const Policy& policy) {
  std::string out;
  for (const auto& p : policy.mx) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

bool dane_overrides_sts(const DestinationProbe& probe) {
  return std::any_of(probe.hosts.begin(), probe.hosts.end(), [](const MxProbe& mx) {
    const auto& f = mx.dane;
    return f.mx_present && f.mx_security == dns::Security::secure && f.tlsa == TlsaLookup::found &&
           std::any_of(f.records.begin(), f.records.end(), dns::tlsa_usable);
  });
}

bool certificate_matches_policy(X509* leaf, const Policy& policy) {
  return std::any_of(policy.mx.begin(), policy.mx.end(), [&](const std::string& p) {
    return p.starts_with("*.") ? certificate_matches(leaf, p.substr(2), true) : certificate_matches(leaf, p, false);
  });
}

bool certificate_names_host(const CertificateInfo& cert, std::string_view host_in) {
  std::string host = ascii_lower(host_in);
  if (!host.empty() && host.back() == '.') host.pop_back();
  for (const auto& san_in : cert.dns_names) {
    const std::string san = ascii_lower(san_in);
    if (san == host) return true;
    if (san.starts_with("*.")) {
      const auto suffix = std::string_view(san).substr(1);  // ".example.com"
      if (host.size() > suffix.size() && host.ends_with(suffix) &&
          host.find('.') == host.size() - suffix.size())
        return true;
    }
  }
  return false;
}

std::string explain_mx_match(const Policy& policy, std::string_view host) {
  for (const auto& p : policy.mx)
    if (mx_pattern_matches(p, host)) return std::string(host) + " matches mx pattern " + p;
  return std::string(host) + " matches none of the policy's mx patterns (" + patterns_text(policy) + ")";
}

HostJudgement judge_host(const MxProbe& mx, const Policy& policy, const ClientProfile& sts_profile) {
  HostJudgement j;
  const bool in_policy = policy_matches_mx(policy, mx.host);
  // What our MTA does under "secure match=<patterns>": the STS connection's
  // handshake in place of the compat one, judged at the secure level.
  MxProbe under = mx;
  if (mx.sts.attempted) under.compat = mx.sts;
  else if (mx.starttls_code == 220) return j;  // no evidence (no STS handshake made): nothing to say
  const Verdict secure = classify_host(under, sts_profile);
  j.secure = secure;
  if (!in_policy) {
    j.problem = Reason::sts_mx_mismatch;
    j.defers = secure.outcome == Outcome::deferred;
    j.detail = explain_mx_match(policy, mx.host);
    if (!j.defers) j.detail += "; Postfix still delivers: the certificate matches a policy pattern (RFC 8461 senders would not)";
    return j;
  }
  if (secure.outcome == Outcome::deferred) {
    j.defers = true;
    j.problem = is_certificate_reason(secure.reason) ? Reason::sts_webpki_invalid : secure.reason;
    j.detail = std::string(reason_code(secure.reason)) + " under the MTA-STS policy: " + secure.detail;
    if (secure.reason == Reason::cert_host_mismatch)
      j.detail = "the certificate matches none of the policy's mx patterns (" + patterns_text(policy) + ")";
    return j;
  }
  // Postfix delivers (the certificate matches a pattern); RFC 8461 also
  // wants it to name this MX host.
  const auto& chain = under.compat.chain;
  if (!chain.empty() && !certificate_names_host(chain.front(), mx.host)) {
    j.problem = Reason::sts_webpki_invalid;
    j.detail = "the certificate does not name " + mx.host +
               " (RFC 8461 4.1); Postfix still delivers: it matches another policy pattern";
  }
  return j;
}

void apply_sts(const DestinationProbe& probe, DestinationVerdict& verdict, const Judging& judging) {
  const auto& lookup = probe.sts;
  if (!lookup.checked || probe.dns_failure) return;
  const auto note_problem = [&] {
    if (!lookup.problem) return;
    auto& o = verdict.overall;
    add_finding(o.findings, *lookup.problem);
    if (o.severity == Severity::ok) {
      o.severity = Severity::warning;
      o.reason = *lookup.problem;
      o.detail = lookup.problem_detail + (lookup.policy ? " (the cached policy applies)" : " (mail goes as without MTA-STS)");
    }
  };
  if (dane_overrides_sts(probe) || !lookup.policy || lookup.policy->mode == Mode::none || verdict.hosts.empty()) {
    note_problem();
    return;
  }
  const auto& policy = *lookup.policy;
  const bool enforce = policy.mode == Mode::enforce && judging.enforced;
  for (std::size_t i = 0; i < probe.hosts.size() && i < verdict.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    auto& v = verdict.hosts[i];
    if (mx.failure) continue;  // not reached: the policy changes nothing
    const auto j = judge_host(mx, policy, judging.profile);
    // Enforced, the policy is the host's TLS policy: what our MTA meets
    // there is the secure-level judgement of the policy's handshake (the
    // findings under the configured level no longer apply).
    if (enforce && j.secure) v = *j.secure;
    if (!j.problem) continue;
    add_finding(v.findings, *j.problem);
    if (enforce && j.defers) {
      v.reason = *j.problem;
      v.severity = Severity::incompatible;
      v.outcome = Outcome::deferred;
      v.detail = "MTA-STS enforce: " + j.detail;
    } else if (v.severity == Severity::ok) {
      v.severity = Severity::warning;
      v.reason = *j.problem;
      v.detail = "MTA-STS " + std::string(mode_name(policy.mode)) + ": " + j.detail;
    }
  }
  decide_overall(verdict, probe);
  note_problem();
}

}  // namespace mxtls::sts
