// Judges a stored probe (probe/probe_facts.h) under another client profile
// without probing again: where the profile would change the handshake
// itself, the stored compat handshake is changed as the server's recorded
// answers say it must go (a version floor above what the server
// negotiated, an OpenSSL security level that refuses its SHA-1 signature,
// DH group or key, another CA file re-verifying the stored chain), then the
// classifier judges it. A server that chose an anonymous cipher the
// profile no longer offers is judged from the probe's certified handshake
// (every cipher but the anonymous ones). Where the facts cannot tell what
// the server would do (it chose a cipher the profile no longer offers and
// no stored handshake shows another; the handshake failed and the profile
// allows more), the answer is "unknown" with the reason, never a guess.
// Pure but for reading CA files.
#pragma once
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "probe/probe_facts.h"
#include "tls/client_profile.h"
#include "verdict/verdict.h"

namespace mxtls {

struct Rejudged {
  std::optional<DestinationVerdict> verdict;  // nullopt: cannot be predicted, see unknown
  std::string unknown;
  std::vector<std::string> notes;             // what was inferred rather than seen
};

// `probed_at`: the time the stored chain is verified at (so that only the
// settings differ from what the probe saw).
Rejudged rejudge_probe(const ProbeFacts& facts, const ClientProfile& profile, std::time_t probed_at);

}  // namespace mxtls
