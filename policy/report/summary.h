// `mxtls report`: what the stored verdicts, the probe history, our decision
// log lines and the MTA's own delivery lines say together. Pure: the command gathers the inputs,
// this aggregates them and renders text or JSON. Not a log shipper or a
// time-series store: one look at the state of outbound TLS.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "report/decision_log.h"
#include "report/reconcile.h"
#include "store/store.h"

namespace mxtls {

struct SummaryInput {
  std::vector<StoredVerdict> verdicts;   // current, one per destination
  std::vector<StoredVerdict> history;    // probes since `since`, oldest first
  std::vector<LoggedDecision> decisions; // from the log files given
  std::vector<DestinationOutcomes> mta;  // the MTA's own delivery lines in them, tallied (OutcomeTally)
  std::size_t mta_deliveries = 0;
  std::size_t log_lines = 0;             // lines read from them
  int64_t now = 0;
  int64_t since = 0;
};

struct VerdictChange {
  std::string domain;
  int64_t at = 0;
  Reason from = Reason::ok, to = Reason::ok;
  Severity to_severity = Severity::ok;
};

struct LoggedDomain {
  std::string domain;
  std::string reason;                  // of the newest line
  std::map<std::string, std::size_t> actions;  // "defer", "defer(monitor)", "defer(not applied)", ...
  std::size_t recipients = 0;
};

struct Summary {
  int64_t now = 0, since = 0;
  std::array<std::size_t, 4> by_severity{};              // current verdicts, by Severity
  std::map<Reason, std::vector<std::string>> problems;   // reason -> destinations (not ok)
  std::vector<VerdictChange> changes;                    // newest first
  std::size_t probes = 0, destinations_probed = 0;
  std::map<Reason, std::size_t> unreachable;             // destinations whose newest probe failed to reach them
  bool local_problem = false;                            // most destinations unreachable at once
  std::map<std::string, std::vector<LoggedDomain>> logged;  // program -> domains, most recipients first
  std::size_t log_lines = 0, decision_lines = 0;
  std::vector<DestinationOutcomes> mta;  // what the MTA did, disagreements with our verdicts first
  std::size_t mta_deliveries = 0, disagreeing_destinations = 0;
};

// A local problem is suspected when at least this many destinations were
// probed in the window and at least half of them could not be reached
// (connect, timeout, DNS): one host rarely sees the world go dark at once.
inline constexpr std::size_t kLocalProblemMinDestinations = 10;

Summary summarize(const SummaryInput& in);
std::string render_summary_text(const Summary& s, std::size_t top);
std::string render_summary_json(const Summary& s);

}  // namespace mxtls
