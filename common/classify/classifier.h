// Turns probe evidence into verdicts. Pure: same evidence and profile, same
// verdict. The effective security level decides what breaks delivery: under
// `may` a failed handshake falls back to plaintext; under `encrypt` it
// defers; under `verify`/`secure` so does any certificate problem.
#pragma once
#include "classify/verdict.h"
#include "probe/probe_result.h"
#include "tls/client_profile.h"

namespace mxtls {

// Why the compat handshake failed, using the survey to tell a version
// mismatch from a cipher or signature-algorithm mismatch.
Reason classify_handshake_failure(const MxProbe& mx, const ClientProfile& profile);

Verdict classify_host(const MxProbe& mx, const ClientProfile& profile);
DestinationVerdict classify_destination(const DestinationProbe& probe, const ClientProfile& profile);

}  // namespace mxtls
