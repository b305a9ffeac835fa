#include "verdict/reason.h"

#include <array>
#include <stdexcept>

namespace mxtls {
namespace {

constexpr std::array kReasons{
    ReasonInfo{Reason::ok, "ok", "", false, "nothing to do"},
    ReasonInfo{Reason::starttls_not_offered, "starttls_not_offered", "starttls-not-supported", false,
               "the destination does not offer STARTTLS; mail to it can only go in plaintext: ask its postmaster to enable TLS, or route via a relay"},
    ReasonInfo{Reason::starttls_refused, "starttls_refused", "starttls-not-supported", false,
               "the destination advertises STARTTLS but refuses it (4xx/5xx): its TLS setup is broken (often a missing certificate or key); tell its postmaster"},
    ReasonInfo{Reason::protocol_version, "protocol_version", "validation-failure", false,
               "no TLS protocol version in common: the server only speaks versions our client profile excludes (or the reverse); allow them for this destination in smtp_tls_policy_maps (protocols=) or ask for an upgrade"},
    ReasonInfo{Reason::legacy_sigalg, "legacy_sigalg", "validation-failure", false,
               "the server signs its handshake with SHA-1/MD5 only; clients at OpenSSL security level >= 1 refuse it: lower the security level for this destination or ask its postmaster to upgrade"},
    ReasonInfo{Reason::no_shared_cipher, "no_shared_cipher", "validation-failure", false,
               "a protocol version is shared but no cipher is: the server's cipher list excludes our client's grade; widen smtp_tls_ciphers for this destination or ask for modern ciphers"},
    ReasonInfo{Reason::weak_key, "weak_key", "certificate-not-trusted", false,
               "the server's certificate key is too small (RSA/DSA < 2048 bits or EC < 224): ask its postmaster for a new certificate"},
    ReasonInfo{Reason::cert_expired, "cert_expired", "certificate-expired", false,
               "the server's certificate has expired: tell its postmaster to renew it; meanwhile deliver with an unauthenticated level (encrypt/may)"},
    ReasonInfo{Reason::cert_not_yet_valid, "cert_not_yet_valid", "certificate-expired", false,
               "the server's certificate is not valid yet: a clock is wrong on one side (check ours first)"},
    ReasonInfo{Reason::cert_self_signed, "cert_self_signed", "certificate-not-trusted", false,
               "the server presents a self-signed certificate: authenticated delivery (verify/secure) cannot succeed; pin it by fingerprint or use encrypt"},
    ReasonInfo{Reason::cert_untrusted_chain, "cert_untrusted_chain", "certificate-not-trusted", false,
               "the certificate chain does not lead to a trusted CA (often a missing intermediate): tell its postmaster to serve the full chain, or check our CA file"},
    ReasonInfo{Reason::cert_host_mismatch, "cert_host_mismatch", "certificate-host-mismatch", false,
               "the certificate does not name the MX host: authenticated delivery fails; tell its postmaster, or match on another name in smtp_tls_policy_maps"},
    ReasonInfo{Reason::sni_dependent, "sni_dependent", "", false,
               "the server presents a different certificate with and without SNI: set smtp_tls_servername = hostname so our client sends SNI"},
    ReasonInfo{Reason::tls_on_plain_port, "tls_on_plain_port", "", false,
               "the server speaks TLS at once on port 25 (implicit TLS) instead of SMTP: a misconfigured MX; tell its postmaster"},
    ReasonInfo{Reason::handshake_failed, "handshake_failed", "validation-failure", false,
               "the TLS handshake failed for a reason not classified further: run `mxtls probe --json` and read the handshake error"},
    ReasonInfo{Reason::connect_failed, "connect_failed", "", true,
               "could not connect to port 25: the host is down or firewalled (check our outbound port 25 first)"},
    ReasonInfo{Reason::timeout, "timeout", "", true,
               "the server stopped answering within the deadline (tarpit, overload or a stalled handshake): retry later"},
    ReasonInfo{Reason::banner_rejected, "banner_rejected", "", true,
               "the server rejected us with a 4xx/5xx greeting or EHLO reply: check our IP's reputation and our HELO name"},
    ReasonInfo{Reason::dns_failure, "dns_failure", "", true,
               "DNS did not answer (SERVFAIL, timeout, or DNSSEC bogus): check our resolver, then the domain's name servers"},
    ReasonInfo{Reason::nxdomain, "nxdomain", "", true,
               "the domain does not exist (NXDOMAIN): the recipient address is wrong"},
    ReasonInfo{Reason::null_mx, "null_mx", "", true,
               "the domain publishes a null MX (RFC 7505): it accepts no mail"},
    ReasonInfo{Reason::no_mx, "no_mx", "", true,
               "the domain has no MX and no address records: it cannot receive mail"},
    ReasonInfo{Reason::target_forbidden, "target_forbidden", "", true,
               "the MX resolves to a loopback/private/reserved address; probing it is refused (allow_private_targets turns this off for labs)"},
    ReasonInfo{Reason::probe_error, "probe_error", "", true,
               "mxtls could not finish the probe because of a fault on our side (the log line has the error, e.g. out of file descriptors): it is retried with backoff; report it if it persists"},
    ReasonInfo{Reason::smtp_protocol_violation, "smtp_protocol_violation", "validation-failure", true,
               "the server broke the SMTP protocol before TLS could start (a reply line or reply longer than any real server sends, or not SMTP at all; the detail names the limit): a broken or hostile MX; tell its postmaster"},
    ReasonInfo{Reason::tlsa_mismatch, "tlsa_mismatch", "tlsa-invalid", false,
               "the server's certificate matches none of its DNSSEC-signed TLSA records (often a key or certificate rotated without updating TLSA): tell its postmaster to publish a TLSA record for the new key (keep the old one until it is gone)"},
    ReasonInfo{Reason::dnssec_bogus, "dnssec_bogus", "dnssec-invalid", false,
               "DNSSEC validation of the domain's MX or TLSA records fails (bogus: bad or expired signatures, a DS without matching keys): check our trust anchor first, then tell the domain's DNS operator"},
    ReasonInfo{Reason::tlsa_unusable, "tlsa_unusable", "tlsa-invalid", false,
               "the MX host publishes signed TLSA records but none is usable for SMTP (PKIX-TA/EE usages, unknown selector or matching type, bad data): at dane Postfix falls back to unauthenticated TLS (encrypt), dane-only defers; ask for DANE-EE(3) or DANE-TA(2) records"},
    ReasonInfo{Reason::dane_required, "dane_required", "dane-required", false,
               "dane-only requires DNSSEC-signed MX and TLSA records and this MX host has none: mail waits in the queue; use dane (or may) for this destination in smtp_tls_policy_maps"},
    ReasonInfo{Reason::tlsa_expiring, "tlsa_expiring", "", false,
               "the only certificate the TLSA records match expires soon: once it is replaced DANE delivery fails unless the new key is published in TLSA first; tell its postmaster"},
    ReasonInfo{Reason::sts_mx_mismatch, "sts_mx_mismatch", "validation-failure", false,
               "the MX host is not in the domain's MTA-STS policy (mx: lines): senders enforcing MTA-STS will not deliver to it; the domain must add it to the policy (and change the TXT id) or fix its MX records"},
    ReasonInfo{Reason::sts_webpki_invalid, "sts_webpki_invalid", "sts-webpki-invalid", false,
               "a certificate fails WebPKI validation under the domain's MTA-STS policy (the MX's, for the MX host name, or the policy host mta-sts.<domain>'s): the domain must serve a certificate from a public CA naming that host, with the full chain"},
    ReasonInfo{Reason::sts_policy_fetch_failed, "sts_policy_fetch_failed", "sts-policy-fetch-error", false,
               "the domain publishes an _mta-sts TXT record but its policy could not be fetched from https://mta-sts.<domain>/.well-known/mta-sts.txt (unreachable, HTTP error, redirect, over 64 KiB or too slow): mail goes as without MTA-STS until it can; tell its postmaster"},
    ReasonInfo{Reason::sts_policy_invalid, "sts_policy_invalid", "sts-policy-invalid", false,
               "the domain's MTA-STS TXT record or policy file does not follow RFC 8461 (the detail names the line): senders treat the domain as having no policy; tell its postmaster"},
    // A key-exchange problem, not a certificate one: RFC 8460's certificate-*
    // types describe the certificate and sts-*/tlsa-*/dnssec-* the policies;
    // what is left for a negotiation that fails is validation-failure.
    ReasonInfo{Reason::dh_too_small, "dh_too_small", "validation-failure", false,
               "the server's finite-field DH group is too small (OpenSSL refuses one under 1024 bits at every security level, under 2048 at level 2; 1024 bits is within reach of a well-funded attacker): ask its postmaster to configure a DH group of 2048 bits or more (RFC 7919 ffdhe2048) or ECDHE"},
    ReasonInfo{Reason::client_cert_required, "client_cert_required", "validation-failure", false,
               "the server demands a client certificate and our MTA sends none, so every handshake fails: give our client a certificate for this destination (smtp_tls_policy_maps, smtp_tls_cert_file) if it is a partner that expects one, or ask its postmaster to make the client certificate optional"},
    ReasonInfo{Reason::slow_greeting, "slow_greeting", "", false,
               "the server greets only after more than 10 s: our MTA waits (smtp_helo_timeout) and delivers, but clients with shorter timeouts give up; nothing to do unless deliveries are slow"},
};

static_assert(kReasons.size() == static_cast<std::size_t>(Reason::slow_greeting) + 1);

}  // namespace

const ReasonInfo& reason_info(Reason r) {
  const auto& info = kReasons.at(static_cast<std::size_t>(r));
  if (info.reason != r) throw std::logic_error("reason table out of order");
  return info;
}

std::string_view reason_code(Reason r) { return reason_info(r).code; }

std::optional<Reason> reason_from_code(std::string_view code) {
  for (const auto& info : kReasons)
    if (info.code == code) return info.reason;
  return std::nullopt;
}

std::span<const ReasonInfo> all_reasons() { return kReasons; }

bool is_certificate_reason(Reason r) {
  switch (r) {
    case Reason::cert_expired:
    case Reason::cert_not_yet_valid:
    case Reason::cert_self_signed:
    case Reason::cert_untrusted_chain:
    case Reason::cert_host_mismatch:
    case Reason::weak_key: return true;
    default: return false;
  }
}

}  // namespace mxtls
