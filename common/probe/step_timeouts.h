// How long a probe connection waits at each step: what our MTA waits
// (ClientProfile::connection: Postfix's smtp_connect_timeout,
// smtp_helo_timeout for the greeting and EHLO, smtp_starttls_timeout for
// STARTTLS and the handshake) unless [probe] sets a step's timeout. Every
// wait also ends at the destination's deadline (destination_timeout).
#pragma once
#include <chrono>

#include "config/config.h"
#include "tls/client_profile.h"

namespace mxtls {

struct StepTimeouts {
  std::chrono::milliseconds connect, greeting, ehlo, starttls, handshake;
};

inline StepTimeouts step_timeouts(const ProbeConfig& config, const MtaConnection& mta) {
  const auto pick = [](const std::optional<Duration>& set, std::chrono::milliseconds mta_value) {
    return set ? set->value : mta_value;
  };
  return {pick(config.connect_timeout, mta.connect_timeout), pick(config.greeting_timeout, mta.helo_timeout),
          pick(config.command_timeout, mta.helo_timeout), pick(config.command_timeout, mta.starttls_timeout),
          pick(config.handshake_timeout, mta.starttls_timeout)};
}

}  // namespace mxtls
