// The tlspolicy socketmap's DANE answer, as postfix-tlspol gives it: for a
// domain whose MX RRset is DNSSEC-signed and whose MX hosts all publish
// secure, usable TLSA records, "dane-only" (Postfix then does DANE itself,
// so a key rotation the records miss defers instead of falling back);
// "dane" when only some hosts do or the records are unusable; nothing when
// there is no DANE; TEMP on a DNS failure. Built from a probe made at level
// dane or dane-only (its DaneFacts); pure. Not the MTA-STS answer.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "probe/probe_result.h"

namespace mxtls {

// At most this many TLSA records become policy_string attributes, and at
// most this many bytes of them in all (a hostile RRset holds thousands).
inline constexpr std::size_t kMaxTlsrptPolicyStrings = 32;
inline constexpr std::size_t kMaxTlsrptPolicyBytes = 8192;

struct DaneTlspolicy {
  enum class Kind { none, temporary, dane, dane_only };
  Kind kind = Kind::none;
  std::string why;  // one line for the log
  // RFC 8460 policy attributes of the same policy: policy_type=tlsa,
  // policy_domain, one policy_string per TLSA record (presentation form),
  // one mx_host_pattern per MX host. In order, names may repeat.
  std::vector<std::pair<std::string, std::string>> tlsrpt;
};

// Judges the DANE facts of `probe` (hosts' DaneFacts, the MX RRset's security).
DaneTlspolicy dane_tlspolicy(const DestinationProbe& probe);

// The socketmap value: "dane-only", "dane" (empty for none and temporary:
// the caller answers NOTFOUND or TEMP). With `with_tlsrpt` the attributes
// follow in Postfix's syntax ("{ policy_string = 3 1 1 ... }" where a value
// holds spaces). Postfix up to 3.10 accepts them only with policy_type sts
// or no-policy-found and rejects the whole policy otherwise
// (smtp_tls_policy.c, valid_tlsrpt_policy_type): so postfix-tlspol sends
// "dane-only" bare, and callers must too until Postfix takes tlsa.
std::string format_dane_tlspolicy(const DaneTlspolicy& policy, bool with_tlsrpt);

}  // namespace mxtls
