#include "verdict/verdict.h"

#include <span>

namespace mxtls {
namespace {

constexpr std::string_view kSeverities[] = {"ok", "warning", "incompatible", "unreachable"};
constexpr std::string_view kOutcomes[] = {"tls", "plaintext", "plaintext_after_delay", "deferred", "bounced"};

template <typename E>
std::optional<E> from_name(std::string_view name, std::span<const std::string_view> names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view severity_name(Severity s) { return kSeverities[static_cast<int>(s)]; }
std::string_view outcome_name(Outcome o) { return kOutcomes[static_cast<int>(o)]; }
std::optional<Severity> severity_from_name(std::string_view name) { return from_name<Severity>(name, kSeverities); }
std::optional<Outcome> outcome_from_name(std::string_view name) { return from_name<Outcome>(name, kOutcomes); }

}  // namespace mxtls
