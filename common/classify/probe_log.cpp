#include "classify/probe_log.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "log/sanitize.h"

namespace mxtls {

std::vector<std::string> format_probe_lines(const DestinationProbe& probe, const DestinationVerdict& verdict,
                                            const ClientProfile& profile) {
  std::vector<std::string> lines;
  const std::string head = "probe: domain=" + sanitize(probe.domain);
  if (probe.dns_failure) {
    lines.push_back(head + ", reason=" + std::string(reason_code(verdict.overall.reason)) +
                    ", detail=\"" + sanitize_quoted(verdict.overall.detail) + "\"");
    return lines;
  }
  const std::time_t now = std::time(nullptr);
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    const auto& mx = probe.hosts[i];
    const auto& v = verdict.hosts[i];
    std::string line = head + ", mx=" + format_mx(mx);
    if (!mx.failure) {
      line += std::string(", starttls=") + (mx.starttls_offered ? (mx.starttls_code == 220 ? "yes" : "refused") : "no");
      // Under survey = on-failure a healthy host has no survey: no versions to tell.
      const bool surveyed = std::any_of(mx.survey.begin(), mx.survey.end(), [](const auto& s) { return s.attempted; });
      line += ", versions=" + (surveyed ? mx.server_versions().to_string() : std::string("unsurveyed"));
      if (mx.compat.ok) {
        line += ", tls=" + mx.compat.version + ", cipher=" + mx.compat.cipher;
      }
      const auto& chain = mx.compat.ok ? mx.compat.chain : std::vector<CertificateInfo>{};
      if (!chain.empty()) {
        const auto& leaf = chain.front();
        line += ", cert=\"" + sanitize_quoted(leaf.subject, 120) + "\", key=" + sanitize(leaf.key_summary()) +
                ", expires=" + format_date(leaf.not_after) + "(" + std::to_string(leaf.days_left(now)) + "d)";
        line += ", verify=";
        if (mx.compat.verify_issues.empty()) line += "ok";
        for (std::size_t k = 0; k < mx.compat.verify_issues.size(); ++k)
          line += (k ? "+" : "") + std::to_string(mx.compat.verify_issues[k].code);
      }
    }
    if (level_is_dane(profile.level)) {
      // dane=<mode>, tlsa=<lookup>/<records>, and which record matched at what depth.
      const auto d = decide_dane(profile, mx.dane);
      line += ", dane=" + std::string(dane_mode_name(d.mode)) + ", tlsa=" + std::string(tlsa_lookup_name(mx.dane.tlsa));
      if (mx.dane.tlsa == TlsaLookup::found) line += "/" + std::to_string(mx.dane.records_total);
      if (mx.compat.dane.enabled) line += ", tlsa_match=" + std::to_string(mx.compat.dane.matched_depth);
    }
    line += ", level=" + std::string(level_name(profile.level)) + ", want=" + profile.effective_versions().to_string();
    line += ", verdict=" + std::string(severity_name(v.severity)) + ", reason=" + std::string(reason_code(v.reason)) +
            ", outcome=" + std::string(outcome_name(v.outcome));
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2fs", mx.elapsed_s);
    line += ", elapsed=" + std::string(elapsed);
    if (v.reason != Reason::ok) line += ", detail=\"" + sanitize_quoted(v.detail) + "\"";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace mxtls
