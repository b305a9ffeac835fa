#include "classify/verdict.h"

namespace mxtls {

std::string_view severity_name(Severity s) {
  constexpr std::string_view kNames[] = {"ok", "warning", "incompatible", "unreachable"};
  return kNames[static_cast<int>(s)];
}

std::string_view outcome_name(Outcome o) {
  constexpr std::string_view kNames[] = {"tls", "plaintext", "plaintext_after_delay", "deferred", "bounced"};
  return kNames[static_cast<int>(o)];
}

}  // namespace mxtls
