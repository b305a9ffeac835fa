// Reads back the per-recipient decision lines mxtls-policyd and mxtls-milter
// write ("QUEUEID: to=<...>, domain=..., ..., reason=..., action=..."), for
// `mxtls report`. Pure. Log files are untrusted text: a line is taken only
// when its fields parse against the known vocabularies, else it is skipped.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "verdict/action.h"

namespace mxtls {

struct LoggedDecision {
  std::string program;   // "mxtls-policyd" or "mxtls-milter"
  std::string domain;
  std::string reason;    // a reason code, or "unknown" (no verdict yet)
  Action action = Action::dunno;
  Applied applied = Applied::yes;  // or only logged (monitor mode), or accepted by the milter
};

// Lines are bounded: longer ones are not decision lines.
inline constexpr std::size_t kMaxDecisionLine = 4096;

std::optional<LoggedDecision> parse_decision_line(std::string_view line);

}  // namespace mxtls
