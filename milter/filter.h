// The libmilter callbacks of mxtls-milter. Per SMTP connection a context
// (client address, whether its mail is inspected) made in xxfi_connect and
// freed in xxfi_close; per message a context made in xxfi_envfrom and freed
// at end of message or abort. Each recipient is asked of mxtls-policyd
// (engine_client/policy_client.h); a "defer" becomes a per-recipient
// tempfail, "hold" a quarantine (Postfix's hold queue), and every inspected
// message gets one header summarising its recipient domains' verdicts.
// With defer_recipients off the milter only annotates: it answers no RCPT,
// so the MTA sends recipients without waiting for it.
#pragma once
#include <libmilter/mfapi.h>

#include <chrono>
#include <memory>
#include <string>

#include "client_networks.h"
#include "config/config.h"
#include "engine_client/policy_client.h"
#include "milter_metrics.h"

namespace mxtls {

struct MilterSettings {
  bool inspect_all = false;
  bool inspect_authenticated = false;
  bool inspect_networks = false;
  ClientNetworks networks{""};
  bool tempfail_on_engine_failure = false;
  bool defer_recipients = true;  // off: no reply at RCPT, an engine's "defer" is logged, not applied
  bool add_header = true;
  std::string header_name = "X-MXTLS";
  std::chrono::milliseconds verdict_cache{0};  // how long the engine's answers are remembered
};
// How many recipient domains the milter remembers answers for.
inline constexpr std::size_t kVerdictMemoDomains = 10'000;

// Validates [milter]; throws ConfigError naming the key.
MilterSettings build_milter_settings(const MilterConfig& milter, const PolicyConfig& policy);

// Installs settings and the engine client used by the callbacks: before
// smfi_main, and again on a reload (connections already open keep theirs).
void install_filter(MilterSettings settings, std::unique_ptr<PolicyClient> engine);
smfiDesc filter_description();
// Where the callbacks count (null: nowhere); set once before smfi_main.
void install_milter_metrics(MilterMetrics* metrics);

}  // namespace mxtls
