#include "decision_log.h"

#include "address/domain.h"
#include "log/fields.h"
#include "verdict/reason.h"

namespace mxtls {
namespace {

// The syslog tag: the line's first "]: " must close "mxtls-policyd[PID" or
// "mxtls-milter[PID", so another program's line quoting ours (Postfix logs
// raw recipient addresses) is never taken for it.
std::string_view program_of(std::string_view line, std::size_t& message_start) {
  const auto end = line.find("]: ");
  if (end == std::string_view::npos) return {};
  const auto space = line.rfind(' ', end);
  const std::string_view tag = line.substr(space == std::string_view::npos ? 0 : space + 1,
                                           end - (space == std::string_view::npos ? 0 : space + 1));
  for (std::string_view program : {"mxtls-policyd", "mxtls-milter"}) {
    if (!tag.starts_with(program) || tag.size() <= program.size() + 1 || tag[program.size()] != '[') continue;
    const auto pid = tag.substr(program.size() + 1);
    if (pid.find_first_not_of("0123456789") != std::string_view::npos) continue;
    message_start = end + 3;
    return program;
  }
  return {};
}

// A Postfix or Sendmail queue id, or NOQUEUE: letters and digits.
bool is_queue_id(std::string_view id) {
  return !id.empty() && id.size() <= 20 &&
         id.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
}

}  // namespace

std::optional<LoggedDecision> parse_decision_line(std::string_view line) {
  if (line.size() > kMaxDecisionLine) return std::nullopt;
  std::size_t start = 0;
  const std::string_view program = program_of(line, start);
  if (program.empty()) return std::nullopt;
  // "QUEUEID: to=<address>, domain=D, ...", its fields read as the daemons
  // wrote them (log/fields.h): text quoted from a peer, in a probe line's
  // detail="..." say, stays inside its own field.
  const std::string_view message = line.substr(start);
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos || !is_queue_id(message.substr(0, colon))) return std::nullopt;
  const auto fields = parse_log_fields(message.substr(colon + 2));
  if (!fields || fields->size() < 2 || (*fields)[0].key != "to" || (*fields)[1].key != "domain") return std::nullopt;
  const std::string& domain = (*fields)[1].value;
  if (!is_valid_domain(domain)) return std::nullopt;

  const auto action_text = find_log_field(*fields, "action");
  if (!action_text) return std::nullopt;
  const auto action = parse_logged_action(*action_text);
  if (!action) return std::nullopt;

  std::string reason = "unknown";
  if (const auto verdict = find_log_field(*fields, "verdict"); verdict && *verdict != "unknown") {
    const auto code = find_log_field(*fields, "reason");
    if (!code || !reason_from_code(*code)) return std::nullopt;
    reason = std::string(*code);
  }
  return LoggedDecision{std::string(program), domain, reason, action->action, action->applied};
}

}  // namespace mxtls
