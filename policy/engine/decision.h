// Turns a destination's verdict into what Postfix should do with a
// recipient there: dunno, warn, prepend a header, defer, reroute (FILTER) or
// hold. Pure. The mapping comes from [policy] (by predicted outcome, then
// per reason code, then per domain) and monitor mode only logs.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "engine/verdict_cache.h"
#include "verdict/action.h"

namespace mxtls {

struct PolicySettings {
  Action on_warning = Action::dunno;
  Action on_plaintext = Action::dunno;
  Action on_plaintext_after_delay = Action::warn;
  Action on_deferred = Action::defer;
  std::map<Reason, Action> by_reason;
  std::map<std::string, Action, std::less<>> by_domain;
  std::string reroute;
  std::string defer_status;
  std::string header;
  bool monitor = false;
};

// Validates [policy] (action names, reason codes, a reroute target when
// any action reroutes). Throws ConfigError naming the key.
PolicySettings build_policy_settings(const PolicyConfig& config);

struct Decision {
  Action action = Action::dunno;  // what the configuration decided
  std::string reply;               // the policy reply's action text (DUNNO in monitor mode)
  std::string defer_text;          // action defer: the reason in the reply, after the status code
};

// `verdict` null: unknown destination (answered DUNNO).
Decision decide(const CachedVerdict* verdict, std::string_view domain, const PolicySettings& settings);

}  // namespace mxtls
