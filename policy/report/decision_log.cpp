#include "decision_log.h"

#include "verdict/reason.h"
#include "address/domain.h"

namespace mxtls {
namespace {

// The value of the last "key=" field (after ", "), up to the next ", " or
// the end. The last one: fields after the recipient and MX names are ours.
std::optional<std::string_view> last_field(std::string_view line, std::string_view key) {
  const std::string needle = ", " + std::string(key) + "=";
  const auto at = line.rfind(needle);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view value = line.substr(at + needle.size());
  return value.substr(0, value.find(", "));
}

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

}  // namespace

std::optional<LoggedDecision> parse_decision_line(std::string_view line) {
  if (line.size() > kMaxDecisionLine) return std::nullopt;
  std::size_t start = 0;
  const std::string_view program = program_of(line, start);
  if (program.empty()) return std::nullopt;
  std::string_view message = line.substr(start);
  // "ID: to=<address>, domain=D, ...": the address holds no '>' (the
  // daemons write it through sanitize_address), so it ends at the first one.
  const auto to = message.find(": to=<");
  if (to == std::string_view::npos) return std::nullopt;
  const auto close = message.find('>', to);
  if (close == std::string_view::npos || message.substr(close, 10) != ">, domain=") return std::nullopt;
  std::string_view domain = message.substr(close + 10);
  domain = domain.substr(0, domain.find(", "));
  if (!is_valid_domain(domain)) return std::nullopt;

  const auto action_text = last_field(message, "action");
  if (!action_text) return std::nullopt;
  std::string_view action_name = *action_text;
  const bool monitor = action_name.ends_with("(monitor)");
  if (monitor) action_name.remove_suffix(9);
  const auto action = action_from_name(action_name);
  if (!action) return std::nullopt;

  std::string reason = "unknown";
  if (const auto verdict = last_field(message, "verdict"); verdict && *verdict != "unknown") {
    const auto code = last_field(message, "reason");
    if (!code || !reason_from_code(*code)) return std::nullopt;
    reason = std::string(*code);
  }
  return LoggedDecision{std::string(program), std::string(domain), reason, *action, monitor};
}

}  // namespace mxtls
