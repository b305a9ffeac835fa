// A verdict: what a probe's evidence means for mail under one client profile
// and security level. `reason` is the single code logs and policy act on;
// `findings` lists every problem seen (an expired certificate is a finding
// under `may` even though mail still goes out encrypted).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "verdict/reason.h"

namespace mxtls {

enum class Severity { ok, warning, incompatible, unreachable };
// What our MTA would do with mail to the destination. plaintext_after_delay
// is Postfix's opportunistic fallback after a failed handshake: the first
// attempt defers, and only a retry once the message has waited
// minimal_backoff_time goes out in plaintext (smtp_proto.c,
// PLAINTEXT_FALLBACK_OK_AFTER_STARTTLS_FAILURE).
enum class Outcome { tls, plaintext, plaintext_after_delay, deferred, bounced };

std::string_view severity_name(Severity s);  // ok, warning, incompatible, unreachable
std::string_view outcome_name(Outcome o);    // tls, plaintext, plaintext_after_delay, deferred, bounced
std::optional<Severity> severity_from_name(std::string_view name);
std::optional<Outcome> outcome_from_name(std::string_view name);

struct Verdict {
  Reason reason = Reason::ok;
  Severity severity = Severity::ok;
  Outcome outcome = Outcome::tls;
  std::string detail;              // evidence for the reason, untrusted parts unsanitized
  std::vector<Reason> findings;    // every problem, most important first
};

struct DestinationVerdict {
  Verdict overall;
  std::vector<Verdict> hosts;  // parallel to DestinationProbe::hosts
  std::size_t decisive = 0;    // the host whose outcome the mail would get
};

}  // namespace mxtls
