// Turns probe evidence into verdicts. Pure: same evidence and profile, same
// verdict. The effective security level decides what breaks delivery: under
// `may` a failed handshake ends in plaintext; under `encrypt` it defers; under `verify`/`secure` so does any certificate problem.
// Outcomes follow what the real Postfix does (tests/integration has the
// ground truth): under `may` a failed handshake first defers, and falls back
// to plaintext only on a later attempt; a refused or absent STARTTLS goes
// out in plaintext at once.
#pragma once
#include "verdict/verdict.h"
#include "probe/probe_result.h"
#include "tls/client_profile.h"

namespace mxtls {

// Why the compat handshake failed, using the survey to tell a version
// mismatch from a cipher or signature-algorithm mismatch.
Reason classify_handshake_failure(const MxProbe& mx, const ClientProfile& profile);

Verdict classify_host(const MxProbe& mx, const ClientProfile& profile);
DestinationVerdict classify_destination(const DestinationProbe& probe, const ClientProfile& profile);
// The destination's verdict from its addresses' (out.hosts, parallel to
// probe.hosts): Postfix tries them in order, the first that takes the mail
// decides; the others' problems make it a warning that names the address.
// Replaces out.overall and out.decisive.
void decide_overall(DestinationVerdict& out, const DestinationProbe& probe);

}  // namespace mxtls
