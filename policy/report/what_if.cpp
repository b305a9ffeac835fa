#include "report/what_if.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>

#include "classify/rejudge.h"
#include "log/sanitize.h"
#include "tls/postfix_settings.h"
#include "util/json.h"

namespace mxtls {
namespace {

// The Postfix settings --what-if can judge from stored facts.
constexpr std::array<std::string_view, 11> kWhatIfKeys{
    "smtp_tls_security_level", "smtp_tls_protocols", "smtp_tls_mandatory_protocols", "smtp_tls_ciphers",
    "smtp_tls_mandatory_ciphers", "smtp_tls_exclude_ciphers", "smtp_tls_mandatory_exclude_ciphers",
    "smtp_tls_CAfile", "smtp_tls_CApath", "smtp_tls_secure_cert_match", "smtp_tls_verify_cert_match"};
constexpr std::size_t kMaxWhatIfText = 4096;

// Transport failures whose outcome no TLS setting changes: the MTA never
// reaches STARTTLS. Not a timeout (a stalled handshake is judged per level),
// nor a guarded or broken probe (the MTA might get further).
bool never_reaches_tls(Reason r) {
  return r == Reason::connect_failed || r == Reason::banner_rejected || r == Reason::dns_failure ||
         r == Reason::nxdomain || r == Reason::null_mx || r == Reason::no_mx;
}

bool flows(Outcome o) { return o == Outcome::tls || o == Outcome::plaintext || o == Outcome::plaintext_after_delay; }
bool in_plaintext(Outcome o) { return o == Outcome::plaintext || o == Outcome::plaintext_after_delay; }

WhatIfEffect effect_of(Outcome now, Outcome proposed) {
  if (now == proposed) return WhatIfEffect::unchanged;
  if (flows(now) && !flows(proposed)) return WhatIfEffect::stops;
  if (now == Outcome::tls && in_plaintext(proposed)) return WhatIfEffect::plaintext;
  if (!flows(now) && flows(proposed)) return WhatIfEffect::flows_again;
  return WhatIfEffect::other_change;
}

std::string describe_profile(const ClientProfile& p) {
  std::string s = p.name + " at " + std::string(level_name(p.level)) + ", protocols " + p.effective_versions().to_string() +
                  ", OpenSSL security level " + std::to_string(p.openssl_security_level);
  if (!p.ca_file.empty()) s += ", CA file " + p.ca_file;
  return s;
}

std::string check_value(const std::string& key, const std::string& value) {
  if (value.find('$') != std::string::npos) return key + ": give the value itself, not a $parameter reference";
  if (key == "smtp_tls_security_level") {
    if (value == "dane" || value == "dane-only" || value == "fingerprint")
      return key + "=" + value + " is not supported: judging it needs DNSSEC facts or fingerprints the store does not keep";
    if (!level_from_name(value)) return key + ": unknown level '" + value + "' (none, may, encrypt, verify, secure)";
  }
  if (key == "smtp_tls_protocols" || key == "smtp_tls_mandatory_protocols") {
    const auto parsed = parse_protocols(value);
    if (!parsed.versions) return key + ": " + parsed.error;
  }
  return "";
}

void count_row(WhatIfReport& r, const WhatIfRow& row) {
  switch (row.effect) {
    case WhatIfEffect::unknown: ++r.unknown; ++r.judged; break;
    case WhatIfEffect::not_judged: ++r.not_judged; break;
    case WhatIfEffect::unchanged: ++r.judged; break;
    default: ++r.judged; ++r.changed; break;
  }
}

std::string log_summary(const DestinationOutcomes& o) {
  const std::size_t tls = o.sent_untrusted + o.sent_trusted + o.sent_verified;
  return "log: " + std::to_string(tls) + " sent over TLS, " + std::to_string(o.sent_plaintext) + " in plaintext, " +
         std::to_string(o.deferred) + " deferred, " + std::to_string(o.bounced) + " bounced";
}

std::string verdict_text(const Verdict& v) {
  return std::string(outcome_name(v.outcome)) + " (" + std::string(reason_code(v.reason)) + ")";
}

Json verdict_json(const std::optional<Verdict>& v) {
  if (!v) return nullptr;
  return Json{{"outcome", outcome_name(v->outcome)}, {"reason", reason_code(v->reason)}, {"detail", v->detail}};
}

constexpr std::array<std::pair<WhatIfEffect, const char*>, 6> kTextSections{{
    {WhatIfEffect::stops, "would stop flowing (deferred or bounced)"},
    {WhatIfEffect::plaintext, "would go out in plaintext"},
    {WhatIfEffect::flows_again, "would flow again"},
    {WhatIfEffect::other_change, "would change otherwise"},
    {WhatIfEffect::unknown, "cannot tell from the stored facts (probe again)"},
    {WhatIfEffect::not_judged, "not judged"},
}};

}  // namespace

std::string WhatIfSettings::describe() const {
  std::string s;
  for (const auto& [k, v] : changes) s += (s.empty() ? "" : " ") + k + "=" + v;
  if (!ca_file.empty()) s += (s.empty() ? "" : " ") + std::string("CA file ") + ca_file;
  return s;
}

WhatIfParse parse_what_if(std::string_view text, const std::string& ca_file) {
  WhatIfParse out;
  if (text.size() > kMaxWhatIfText) {
    out.error = "--what-if: longer than " + std::to_string(kMaxWhatIfText) + " bytes";
    return out;
  }
  WhatIfSettings s;
  s.ca_file = ca_file;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n') {
      ++pos;
      continue;
    }
    std::size_t end = text.find_first_of(" \t\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string token(text.substr(pos, end - pos));
    pos = end;
    const auto eq = token.find('=');
    const std::string key = token.substr(0, eq);
    if (eq == std::string::npos || eq == 0) {
      out.error = "--what-if: '" + sanitize(token) + "' is not key=value";
      return out;
    }
    if (std::find(kWhatIfKeys.begin(), kWhatIfKeys.end(), key) == kWhatIfKeys.end()) {
      out.error = "--what-if: unknown or unsupported setting '" + sanitize(key) + "' (supported: ";
      for (std::size_t i = 0; i < kWhatIfKeys.size(); ++i) out.error += (i ? ", " : "") + std::string(kWhatIfKeys[i]);
      out.error += ")";
      return out;
    }
    for (const auto& [k, v] : s.changes)
      if (k == key) {
        out.error = "--what-if: " + key + " given twice";
        return out;
      }
    const std::string value = token.substr(eq + 1);
    if (const auto bad = check_value(key, value); !bad.empty()) {
      out.error = "--what-if: " + sanitize(bad);
      return out;
    }
    s.changes.emplace_back(key, value);
  }
  if (s.changes.empty() && s.ca_file.empty()) {
    out.error = "--what-if: no setting given (e.g. smtp_tls_security_level=encrypt)";
    return out;
  }
  out.settings = std::move(s);
  return out;
}

ClientProfile proposed_profile(const TlsConfig& config, const ClientProfile& current, const WhatIfSettings& settings) {
  ClientProfile p = current;
  if (!settings.changes.empty()) {
    if (current.name != "postfix")
      throw ProfileError("--what-if changes Postfix settings: the compat profile is " + current.name +
                         " (set [tls] profile = postfix, or use --what-if-ca alone)");
    PostfixTlsSettings pf = read_postfix_tls_settings(config.postconf, config.postfix_config_dir);
    std::optional<SecurityLevel> level;
    if (!config.security_level.empty()) level = level_from_name(config.security_level);
    for (const auto& [key, value] : settings.changes) {
      pf.values[key] = value;
      if (key == "smtp_tls_security_level") level.reset();  // the change decides, not [tls] security_level
    }
    p = postfix_profile(pf, level);
    p.source = current.source + " with " + settings.describe();
  }
  if (!settings.ca_file.empty()) {
    if (access(settings.ca_file.c_str(), R_OK) != 0) throw ProfileError("--what-if-ca: cannot read " + settings.ca_file);
    p.ca_file = settings.ca_file;
    p.ca_path.clear();
  }
  return p;
}

std::string_view effect_name(WhatIfEffect e) {
  switch (e) {
    case WhatIfEffect::stops: return "stops";
    case WhatIfEffect::plaintext: return "plaintext";
    case WhatIfEffect::flows_again: return "flows_again";
    case WhatIfEffect::other_change: return "changes";
    case WhatIfEffect::unchanged: return "unchanged";
    case WhatIfEffect::unknown: return "unknown";
    case WhatIfEffect::not_judged: return "not_judged";
  }
  return "unknown";
}

namespace {

// A stored verdict's facts judged under both profiles.
WhatIfRow judge_stored(const StoredVerdict& v, const ClientProfile& current, const ClientProfile& proposed) {
  WhatIfRow row;
  row.domain = v.domain;
  const FactsRead read = read_probe_facts(v.facts);
  if (!read.facts) {
    row.effect = WhatIfEffect::not_judged;
    row.why = read.error + ": probe again";
    return row;
  }
  const Rejudged now = rejudge_probe(*read.facts, current, static_cast<std::time_t>(v.probed_at));
  const Rejudged then = rejudge_probe(*read.facts, proposed, static_cast<std::time_t>(v.probed_at));
  if (now.verdict) row.now = now.verdict->overall;
  if (then.verdict) row.proposed = then.verdict->overall;
  row.notes = then.notes;
  if (!now.verdict || !then.verdict) {
    row.effect = WhatIfEffect::unknown;
    row.why = then.verdict ? "under the current settings: " + now.unknown : then.unknown;
  } else {
    row.effect = effect_of(row.now->outcome, row.proposed->outcome);
  }
  if (!read.facts->certificates_kept) row.notes.push_back("certificates not stored (facts over 16 KiB): a CA change cannot be judged");
  return row;
}

// A destination whose newest probe reached no verdict (history only):
// judged from the facts its record keeps (store/probe_record.h), else by
// where it failed.
WhatIfRow unreached_row(const StoredVerdict& h, const ClientProfile& current, const ClientProfile& proposed) {
  if (!h.facts.empty()) return judge_stored(h, current, proposed);
  WhatIfRow row;
  row.domain = h.domain;
  Verdict last;
  last.reason = h.reason;
  last.outcome = h.outcome;
  last.severity = h.severity;
  last.detail = h.detail;
  row.now = last;
  if (never_reaches_tls(h.reason)) {
    row.effect = WhatIfEffect::unchanged;
    row.proposed = last;
    row.notes.push_back("the newest probe never reached STARTTLS (" + std::string(reason_code(h.reason)) +
                        "): the same under any TLS setting");
  } else {
    // Recorded without facts (over kMaxHistoryFactsBytes, or by a release
    // before history kept them): a stalled handshake is judged per level.
    row.effect = WhatIfEffect::not_judged;
    row.why = "the newest probe reached no TLS verdict (" + std::string(reason_code(h.reason)) +
              ") and its record keeps no facts; probe again";
  }
  return row;
}

}  // namespace

WhatIfReport run_what_if(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& history,
                         const ClientProfile& current, const ClientProfile& proposed, const WhatIfSettings& settings,
                         const std::vector<DestinationOutcomes>& mta) {
  WhatIfReport r;
  r.settings = settings.describe();
  r.current_profile = describe_profile(current);
  r.proposed_profile = describe_profile(proposed);
  std::map<std::string, const StoredVerdict*, std::less<>> stored;
  for (const auto& v : verdicts) stored[v.domain] = &v;
  // The newest probe of each destination, when it is newer than its verdict and reached nothing.
  std::map<std::string, const StoredVerdict*, std::less<>> unreached;
  for (const auto& h : history) {
    const auto it = stored.find(h.domain);
    if (it != stored.end() && it->second->probed_at >= h.probed_at) continue;
    if (h.severity == Severity::unreachable) unreached[h.domain] = &h;
    else unreached.erase(h.domain);
  }
  for (const auto& v : verdicts)
    if (!unreached.count(v.domain)) r.rows.push_back(judge_stored(v, current, proposed));
  for (const auto& [domain, h] : unreached) r.rows.push_back(unreached_row(*h, current, proposed));
  std::map<std::string, const DestinationOutcomes*, std::less<>> logged;
  for (const auto& o : mta) logged[o.domain] = &o;
  for (auto& row : r.rows) {
    if (const auto it = logged.find(row.domain); it != logged.end()) row.log = *it->second;
    count_row(r, row);
  }
  std::stable_sort(r.rows.begin(), r.rows.end(), [](const WhatIfRow& a, const WhatIfRow& b) { return a.effect < b.effect; });
  return r;
}

std::string render_what_if_text(const WhatIfReport& r) {
  std::string out = "what-if: " + sanitize(r.settings) + "\n  now:      " + sanitize(r.current_profile) +
                    "\n  proposed: " + sanitize(r.proposed_profile) + "\n";
  std::size_t counts[7] = {};
  for (const auto& row : r.rows) ++counts[static_cast<std::size_t>(row.effect)];
  out += std::to_string(r.judged) + " destinations re-judged, " + std::to_string(r.changed) + " would change (" +
         std::to_string(counts[0]) + " stop, " + std::to_string(counts[1]) + " plaintext, " + std::to_string(counts[2]) +
         " flow again, " + std::to_string(counts[3]) + " otherwise), " + std::to_string(r.unknown) + " unknown, " +
         std::to_string(r.not_judged) + " not judged\n";
  for (const auto& [effect, title] : kTextSections) {
    if (!counts[static_cast<std::size_t>(effect)]) continue;
    out += std::string("\n") + title + ":\n";
    for (const auto& row : r.rows) {
      if (row.effect != effect) continue;
      out += "  " + sanitize(row.domain) + ": ";
      if (row.now && row.proposed) out += verdict_text(*row.now) + " -> " + verdict_text(*row.proposed) + ": " + sanitize(row.proposed->detail);
      else out += sanitize(row.why);
      if (row.log) out += "; " + log_summary(*row.log);
      out += "\n";
      for (const auto& note : row.notes) out += "      note: " + sanitize(note) + "\n";
    }
  }
  out += "\nNot judged from stored facts: DANE and MTA-STS policies, SNI and key-exchange group changes.\n";
  return out;
}

std::string render_what_if_json(const WhatIfReport& r) {
  Json rows = Json::array();
  for (const auto& row : r.rows) {
    Json j{{"domain", row.domain}, {"effect", effect_name(row.effect)}, {"now", verdict_json(row.now)},
           {"proposed", verdict_json(row.proposed)}, {"why", row.why}, {"notes", row.notes}};
    if (row.log)
      j["log"] = {{"deferred", row.log->deferred}, {"bounced", row.log->bounced}, {"sent_plaintext", row.log->sent_plaintext},
                  {"sent_tls", row.log->sent_untrusted + row.log->sent_trusted + row.log->sent_verified}};
    rows.push_back(std::move(j));
  }
  const Json doc{{"what_if",
                  {{"settings", r.settings}, {"now", r.current_profile}, {"proposed", r.proposed_profile},
                   {"judged", r.judged}, {"changed", r.changed}, {"unknown", r.unknown}, {"not_judged", r.not_judged},
                   {"destinations", rows}}}};
  return to_json_text(doc) + "\n";
}

}  // namespace mxtls
