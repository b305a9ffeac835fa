#include "report/summary.h"

#include <algorithm>
#include <ctime>

#include "verdict/reason.h"
#include "util/json.h"

namespace mxtls {
namespace {

bool is_transport_failure(Reason r) {
  return r == Reason::connect_failed || r == Reason::timeout || r == Reason::dns_failure;
}

std::string action_key(const LoggedDecision& d) {
  return std::string(action_name(d.action)) + std::string(applied_suffix(d.applied));
}

std::string format_time(int64_t t) {
  const std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string format_span(int64_t seconds) {
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds) + "s";
}

}  // namespace

Summary summarize(const SummaryInput& in) {
  Summary s;
  s.now = in.now;
  s.since = in.since;
  for (const auto& v : in.verdicts) {
    ++s.by_severity[static_cast<std::size_t>(v.severity)];
    if (v.severity != Severity::ok) s.problems[v.reason].push_back(v.domain);
  }

  // Changes between consecutive probes of a destination, and each
  // destination's newest probe in the window.
  std::map<std::string, const StoredVerdict*> newest;
  for (const auto& p : in.history) {
    ++s.probes;
    auto [it, first] = newest.try_emplace(p.domain, &p);
    if (!first) {
      const StoredVerdict& before = *it->second;
      if (before.reason != p.reason)
        s.changes.push_back({p.domain, p.probed_at, before.reason, p.reason, p.severity});
      it->second = &p;
    }
  }
  std::reverse(s.changes.begin(), s.changes.end());
  s.destinations_probed = newest.size();
  std::size_t unreachable = 0;
  for (const auto& [domain, p] : newest) {
    if (!is_transport_failure(p->reason)) continue;
    ++s.unreachable[p->reason];
    ++unreachable;
  }
  s.local_problem = s.destinations_probed >= kLocalProblemMinDestinations && unreachable * 2 >= s.destinations_probed;

  s.log_lines = in.log_lines;
  s.decision_lines = in.decisions.size();
  std::map<std::string, std::map<std::string, LoggedDomain>> by_program;
  for (const auto& d : in.decisions) {
    LoggedDomain& entry = by_program[d.program][d.domain];
    entry.domain = d.domain;
    entry.reason = d.reason;
    ++entry.actions[action_key(d)];
    ++entry.recipients;
  }
  for (auto& [program, domains] : by_program) {
    auto& list = s.logged[program];
    for (auto& [name, entry] : domains) list.push_back(std::move(entry));
    std::stable_sort(list.begin(), list.end(),
                     [](const LoggedDomain& a, const LoggedDomain& b) { return a.recipients > b.recipients; });
  }
  s.mta = in.mta;
  s.mta_deliveries = in.mta_deliveries;
  for (const auto& o : s.mta) s.disagreeing_destinations += o.disagreements > 0 ? 1 : 0;
  return s;
}

std::string render_summary_text(const Summary& s, std::size_t top) {
  std::string out;
  const std::size_t known = s.by_severity[0] + s.by_severity[1] + s.by_severity[2] + s.by_severity[3];
  out += "Destinations with a verdict: " + std::to_string(known) + " (" + std::to_string(s.by_severity[0]) + " ok, " +
         std::to_string(s.by_severity[1]) + " warning, " + std::to_string(s.by_severity[2]) + " incompatible, " +
         std::to_string(s.by_severity[3]) + " unreachable)\n";
  if (!s.problems.empty()) {
    out += "\nBy reason (destinations not ok):\n";
    for (const auto& [reason, domains] : s.problems) {
      out += "  " + std::string(reason_code(reason)) + " (" + std::to_string(domains.size()) + "): ";
      for (std::size_t i = 0; i < domains.size() && i < top; ++i) out += (i ? ", " : "") + domains[i];
      if (domains.size() > top) out += ", ... " + std::to_string(domains.size() - top) + " more";
      out += "\n    fix: " + std::string(reason_info(reason).remediation) + "\n";
    }
  }

  out += "\nProbes since " + format_time(s.since) + " UTC (" + format_span(s.now - s.since) + "): " +
         std::to_string(s.probes) + " probe(s) of " + std::to_string(s.destinations_probed) + " destination(s)\n";
  if (s.local_problem) {
    std::size_t n = 0;
    for (const auto& [reason, count] : s.unreachable) n += count;
    out += "  LOCAL PROBLEM? " + std::to_string(n) + " of " + std::to_string(s.destinations_probed) +
           " destinations were unreachable at their last probe: check this host's outbound port 25, its DNS "
           "resolver and firewall before blaming the destinations.\n";
  }
  if (s.changes.empty()) {
    out += "  no verdict changed between probes\n";
  } else {
    out += "  verdict changes, newest first:\n";
    for (std::size_t i = 0; i < s.changes.size() && i < top; ++i) {
      const auto& c = s.changes[i];
      out += "  " + format_time(c.at) + "  " + c.domain + "  " + std::string(reason_code(c.from)) + " -> " +
             std::string(reason_code(c.to)) + " (" + std::string(severity_name(c.to_severity)) + ")\n";
    }
    if (s.changes.size() > top) out += "  ... " + std::to_string(s.changes.size() - top) + " more\n";
  }

  if (s.log_lines > 0) {
    out += "\nFrom the logs: " + std::to_string(s.decision_lines) + " decision line(s) in " +
           std::to_string(s.log_lines) + " line(s) read\n";
    for (const auto& [program, domains] : s.logged) {
      out += "  " + program + ", recipients per destination:\n";
      std::size_t width = 0;
      for (std::size_t i = 0; i < domains.size() && i < top; ++i) width = std::max(width, domains[i].domain.size());
      width = std::min<std::size_t>(width, 40);
      for (std::size_t i = 0; i < domains.size() && i < top; ++i) {
        const auto& d = domains[i];
        const std::size_t pad = d.domain.size() < width ? width - d.domain.size() : 0;
        out += "    " + d.domain + std::string(pad, ' ') + "  " + std::to_string(d.recipients) + "  reason=" + d.reason + "  ";
        bool first = true;
        for (const auto& [action, n] : d.actions) {
          out += (first ? "" : ", ") + action + " " + std::to_string(n);
          first = false;
        }
        out += "\n";
      }
      if (domains.size() > top) out += "    ... " + std::to_string(domains.size() - top) + " more\n";
    }
  }
  if (!s.mta.empty()) {
    out += "\nWhat the MTA did: " + std::to_string(s.mta_deliveries) + " delivery line(s) to " +
           std::to_string(s.mta.size()) + " destination(s); our prediction disagreed for " +
           std::to_string(s.disagreeing_destinations) + "\n";
    for (std::size_t i = 0; i < s.mta.size() && i < top; ++i) {
      const auto& o = s.mta[i];
      out += "  " + std::string(o.disagreements ? "DISAGREES " : "") + o.domain + ": deferred " + std::to_string(o.deferred) +
             ", bounced " + std::to_string(o.bounced) + ", sent plaintext " + std::to_string(o.sent_plaintext) +
             ", untrusted " + std::to_string(o.sent_untrusted) + ", trusted " + std::to_string(o.sent_trusted) +
             ", verified " + std::to_string(o.sent_verified);
      if (o.mta_reason) out += "; reason " + std::string(reason_code(*o.mta_reason)) + " (\"" + o.evidence + "\")";
      if (o.disagreements) out += "\n    " + o.first_disagreement + " (" + std::to_string(o.disagreements) + " time(s))";
      out += "\n";
    }
    if (s.mta.size() > top) out += "  ... " + std::to_string(s.mta.size() - top) + " more\n";
  }
  return out;
}

std::string render_summary_json(const Summary& s) {
  Json verdicts = Json::object();
  for (std::size_t i = 0; i < s.by_severity.size(); ++i)
    verdicts[std::string(severity_name(static_cast<Severity>(i)))] = s.by_severity[i];
  Json problems = Json::object();
  for (const auto& [reason, domains] : s.problems) problems[std::string(reason_code(reason))] = domains;
  Json unreachable = Json::object();
  for (const auto& [reason, n] : s.unreachable) unreachable[std::string(reason_code(reason))] = n;
  Json changes = Json::array();
  for (const auto& c : s.changes)
    changes.push_back({{"domain", c.domain},
                       {"at", c.at},
                       {"from", std::string(reason_code(c.from))},
                       {"to", std::string(reason_code(c.to))},
                       {"severity", std::string(severity_name(c.to_severity))}});
  Json logged = Json::object();
  for (const auto& [program, domains] : s.logged) {
    Json list = Json::array();
    for (const auto& d : domains) {
      Json actions = Json::object();
      for (const auto& [action, n] : d.actions) actions[action] = n;
      list.push_back({{"domain", d.domain}, {"reason", d.reason}, {"recipients", d.recipients}, {"actions", std::move(actions)}});
    }
    logged[program] = std::move(list);
  }
  Json mta = Json::array();
  for (const auto& o : s.mta) {
    Json predicted = nullptr;
    if (o.predicted)
      predicted = {{"outcome", std::string(outcome_name(o.predicted->outcome))},
                   {"reason", std::string(reason_code(o.predicted->reason))}};
    mta.push_back({{"domain", o.domain},
                   {"deferred", o.deferred},
                   {"bounced", o.bounced},
                   {"sent", {{"plaintext", o.sent_plaintext},
                             {"untrusted", o.sent_untrusted},
                             {"trusted", o.sent_trusted},
                             {"verified", o.sent_verified}}},
                   {"reason", o.mta_reason ? Json(std::string(reason_code(*o.mta_reason))) : Json(nullptr)},
                   {"evidence", o.evidence},
                   {"predicted", std::move(predicted)},
                   {"disagreements", o.disagreements},
                   {"disagreement", o.first_disagreement}});
  }
  const Json document{{"now", s.now},
                      {"since", s.since},
                      {"verdicts", std::move(verdicts)},
                      {"problems", std::move(problems)},
                      {"probes", s.probes},
                      {"destinations_probed", s.destinations_probed},
                      {"unreachable", std::move(unreachable)},
                      {"local_problem", s.local_problem},
                      {"changes", std::move(changes)},
                      {"log_lines", s.log_lines},
                      {"decision_lines", s.decision_lines},
                      {"logged", std::move(logged)},
                      {"mta_deliveries", s.mta_deliveries},
                      {"mta", std::move(mta)}};
  return to_json_text(document) + "\n";
}

}  // namespace mxtls
