// What a destination's MTA-STS policy (RFC 8461) means for mail, on top of
// the verdict under the configured level. Pure.
//
//  * enforce: per MX host, what our MTA does under the policy (Postfix with
//    postfix-mta-sts-resolver, postfix-tlspol or mxtls's own tlspolicy map:
//    "secure match=<patterns> servername=hostname"), judged from the
//    handshake made that way (MxProbe::sts). A host it cannot deliver to is
//    deferred: sts_mx_mismatch when the MX is not in the policy (RFC 8461
//    4.1), sts_webpki_invalid when its certificate fails (chain, expiry,
//    names), else the TLS reason (no STARTTLS, no common version...). An MX
//    outside the policy whose certificate still matches a pattern is
//    delivered to by Postfix (it checks the certificate, not the MX name):
//    a warning. With [mta_sts] enforce = no the same problems are warnings.
//  * testing: the same problems as warnings; mail goes as without a policy.
//  * none, no policy: nothing.
//  * a record or policy that could not be had (fetch failed, invalid, the
//    policy host's certificate): a finding (warning); mail goes as without
//    MTA-STS, or under the cached policy while one is unexpired.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "probe/probe_result.h"
#include "sts/policy.h"
#include "tls/client_profile.h"
#include "verdict/verdict.h"

namespace mxtls::sts {

struct Judging {
  ClientProfile profile;  // our MTA under a policy: the secure level's settings
  bool enforced = true;   // our MTA enforces MTA-STS
};

// RFC 8461 2: where DANE applies, MTA-STS does not. True when an MX host
// of the destination, named by a DNSSEC-secure MX RRset, has secure TLSA
// records that Postfix would use: its verdict then comes from DANE and the
// policy is only shown. (The tlspolicy socketmap decides it by the same
// facts: policy/engine/dane_tlspolicy.)
bool dane_overrides_sts(const DestinationProbe& probe);

// Postfix's "secure match=<patterns>" on the certificate: a pattern
// "*.example.com" as ".example.com" (any subdomain), others exactly.
bool certificate_matches_policy(X509* leaf, const Policy& policy);

struct HostJudgement {
  std::optional<Reason> problem;  // none: the host satisfies the policy
  bool defers = false;            // our MTA would not deliver to it under the policy
  std::string detail;
  std::optional<Verdict> secure;  // the host judged as our MTA meets it under the policy (nullopt: no evidence)
};

HostJudgement judge_host(const MxProbe& mx, const Policy& policy, const ClientProfile& sts_profile);

// Adjusts `verdict` (classify_destination's) for probe.sts.
void apply_sts(const DestinationProbe& probe, DestinationVerdict& verdict, const Judging& judging);

// RFC 8461 4.1 / RFC 6125: a subjectAltName dNSName names `host`
// (a wildcard only as the whole left-most label). The CN is not used.
bool certificate_names_host(const CertificateInfo& cert, std::string_view host);

// One line for reports: why `host` does or does not match the policy.
std::string explain_mx_match(const Policy& policy, std::string_view host);

}  // namespace mxtls::sts
