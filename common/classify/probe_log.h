// The one-line-per-MX "probe:" log record of design.md, in Postfix's shape:
// identity first, then comma-separated key=value, untrusted text sanitized.
// It lives with the classifier because each line carries the evidence and
// the verdict together.
#pragma once
#include <string>
#include <vector>

#include "verdict/verdict.h"
#include "probe/probe_result.h"
#include "tls/client_profile.h"

namespace mxtls {

// One line per MX host (or one for a DNS-level outcome), without the
// "program[pid]: " prefix that the logger adds.
std::vector<std::string> format_probe_lines(const DestinationProbe& probe, const DestinationVerdict& verdict,
                                            const ClientProfile& profile);

}  // namespace mxtls
