// The tlspolicy socketmap's MTA-STS policies, on the answering thread:
// copies of what the probe thread's StsResolver found (engine/probe_thread.h),
// so that the TXT lookup, the HTTPS fetch and its certificate checks run
// there, never on the thread that answers. A domain without a copy is asked
// for once (later answers wait for the same lookup, each at most
// wait_limit); a copy checked more than recheck ago is answered from and
// asked for again in the background. Bounded: at most kMaxPolicyLookups
// domains asked for at once (beyond, answered as without a policy) and
// sts::kMaxCachedDomains copies. Not for the CLI, which has no probe thread.
#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/probe_thread.h"
#include "log/throttle.h"
#include "sts/resolver.h"

namespace mxtls {

inline constexpr std::size_t kMaxPolicyLookups = 1000;

class StsPolicies {
 public:
  StsPolicies(asio::io_context& answering, ProbeThread& probes, std::chrono::seconds recheck,
              std::chrono::milliseconds wait_limit);

  // The copy (asked for again in the background when old), nullptr when there is none yet.
  const sts::CachedPolicy* peek(const std::string& domain);
  // The same, asking for it and waiting (at most wait_limit) when there is
  // none; nullptr when the lookup did not end in time or too many are out.
  asio::awaitable<const sts::CachedPolicy*> current(const std::string& domain);

  std::size_t asked() const { return asked_.size(); }

 private:
  enum class Ask { started, already, full };
  Ask ask(const std::string& domain);
  void arrived(const std::string& domain, std::optional<sts::CachedPolicy> entry);

  asio::io_context& io_;
  ProbeThread& probes_;
  std::chrono::seconds recheck_;
  std::chrono::milliseconds wait_limit_;
  sts::PolicyCache cache_;
  // Domains asked for -> the answers waiting for them (timers cancelled on arrival).
  std::unordered_map<std::string, std::vector<std::shared_ptr<asio::steady_timer>>> asked_;
  log::Throttle full_log_{std::chrono::seconds(60)};
};

}  // namespace mxtls
