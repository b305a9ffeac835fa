// The question mxtls-milter asks mxtls-policyd about one recipient, and the
// answer, over the policy delegation protocol (request=mxtls_verdict). The
// answer is the policy reply Postfix would get ("action=...") plus the
// decision and the verdict as typed mxtls_* attributes, so the milter never
// re-reads the engine's action text. encode on one side, decode on the
// other; decode is bounded, rejects unknown vocabulary, and is fuzzed.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "verdict/action.h"
#include "verdict/reason.h"
#include "verdict/verdict.h"

namespace mxtls::codec {

inline constexpr std::string_view kVerdictRequest = "mxtls_verdict";

struct VerdictQuestion {
  std::string recipient, sender, queue_id, client_address;
};

// Longest value a question carries, far below the policy protocol's line
// limit. A longer address keeps its domain, which is all the engine judges,
// and loses the end of its local part; other values are cut.
inline constexpr std::size_t kMaxQuestionValue = 512;

// The request, with its final empty line. Control characters in values
// become '?', so no value can add attributes; every value is bounded.
std::string encode_verdict_question(const VerdictQuestion& q);

struct EngineVerdict {
  std::string domain;                // the recipient domain judged; "" when there was none to judge
  Action action = Action::dunno;     // what the configuration decided
  bool monitor = false;              // decided in monitor mode: log it, do not apply it
  std::optional<Severity> severity;  // nullopt: no verdict yet (probe queued)
  std::optional<Reason> reason;
  std::optional<Outcome> outcome;
  std::string policy_reply;          // the "action=" text Postfix would get
  std::string defer_status;          // action defer: the 4.X.Y of policy.defer_status
  std::string defer_text;            // action defer: why, one line for the SMTP reply
  friend bool operator==(const EngineVerdict&, const EngineVerdict&) = default;
};

// The reply's attribute lines, without the final empty line.
std::string encode_engine_verdict(const EngineVerdict& v);

// One complete reply (attribute lines and the empty line). nullopt with
// `error` set when it is not one, or names an unknown action, verdict,
// reason or outcome.
std::optional<EngineVerdict> decode_engine_verdict(std::string_view reply, std::string& error);

}  // namespace mxtls::codec
