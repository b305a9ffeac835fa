// The stable set of reason codes mxtls classifies a destination into, with
// what an operator needs beside each: its RFC 8460 result type and a one-line
// remediation. Codes are part of the interface (logs, JSON, config): never
// rename one; add new ones at the end of the enum.
#pragma once
#include <optional>
#include <span>
#include <string_view>

namespace mxtls {

enum class Reason {
  ok,
  starttls_not_offered,
  starttls_refused,
  protocol_version,
  legacy_sigalg,
  no_shared_cipher,
  weak_key,
  cert_expired,
  cert_not_yet_valid,
  cert_self_signed,
  cert_untrusted_chain,
  cert_host_mismatch,
  sni_dependent,
  tls_on_plain_port,
  handshake_failed,
  connect_failed,
  timeout,
  banner_rejected,
  dns_failure,
  nxdomain,
  null_mx,
  no_mx,
  target_forbidden,
  probe_error,
  smtp_protocol_violation,
  // DANE (RFC 7672), judged at security levels dane and dane-only.
  tlsa_mismatch,
  dnssec_bogus,
  tlsa_unusable,
  dane_required,
  tlsa_expiring,
  // MTA-STS (RFC 8461): see sts/judge.h.
  sts_mx_mismatch,
  sts_webpki_invalid,
  sts_policy_fetch_failed,
  sts_policy_invalid,
  // Handshake details the server chose (tls/handshake.h records them).
  dh_too_small,
  client_cert_required,
  // The MTA's timeouts (issue 11): a greeting slower than most clients wait.
  slow_greeting,
};

struct ReasonInfo {
  Reason reason;
  std::string_view code;         // the stable name used in logs and config
  std::string_view rfc8460;      // RFC 8460 result type, empty where none fits
  bool transport;                // not a TLS verdict: never cached as one, backed off
  std::string_view remediation;  // one line an operator can act on
};

const ReasonInfo& reason_info(Reason r);
std::string_view reason_code(Reason r);
// A problem of the server's certificate (expired, untrusted, wrong name, weak key).
bool is_certificate_reason(Reason r);
std::optional<Reason> reason_from_code(std::string_view code);
// Every reason, in enum order (for documentation, config validation, tests).
std::span<const ReasonInfo> all_reasons();

}  // namespace mxtls
