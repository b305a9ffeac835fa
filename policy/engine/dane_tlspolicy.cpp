#include "engine/dane_tlspolicy.h"

#include <algorithm>

namespace mxtls {
namespace {

enum class HostDane { none, dane, dane_only };

// One host as postfix-tlspol's checkTlsa sees it: secure TLSA with a usable
// record -> dane-only; secure TLSA, none usable -> dane (Postfix falls back
// to encrypt); anything else -> no DANE. A failed lookup is temporary.
std::optional<HostDane> host_dane(const MxProbe& mx, std::string& why) {
  const auto& f = mx.dane;
  if (f.address_security == dns::Security::bogus || f.tlsa == TlsaLookup::error || f.tlsa == TlsaLookup::bogus) {
    why = mx.host + ": TLSA lookup failed (" + std::string(tlsa_lookup_name(f.tlsa)) + ")";
    return std::nullopt;
  }
  if (f.address_security != dns::Security::secure || f.tlsa != TlsaLookup::found) return HostDane::none;
  return std::any_of(f.records.begin(), f.records.end(), dns::tlsa_usable) ? HostDane::dane_only : HostDane::dane;
}

bool needs_braces(const std::string& value) { return value.find_first_of(" \t") != std::string::npos; }

}  // namespace

DaneTlspolicy dane_tlspolicy(const DestinationProbe& probe) {
  DaneTlspolicy p;
  if (probe.dns_failure == Reason::dns_failure || probe.dns_failure == Reason::dnssec_bogus) {
    p.kind = DaneTlspolicy::Kind::temporary;
    p.why = "MX lookup failed: " + probe.dns_detail;
    return p;
  }
  if (probe.dns_failure || probe.hosts.empty()) {
    p.why = "no MX host";
    return p;
  }
  if (!probe.mx_present || probe.mx_security != dns::Security::secure) {
    p.why = std::string("MX RRset ") + (probe.mx_present ? std::string(dns::security_name(probe.mx_security)) : "absent");
    return p;
  }
  // One per MX host: a host's further addresses (alternate) share its TLSA facts.
  std::size_t dane_only = 0, dane = 0, hosts = 0;
  for (const auto& mx : probe.hosts) {
    if (mx.alternate) continue;
    ++hosts;
    const auto host = host_dane(mx, p.why);
    if (!host) {
      p.kind = DaneTlspolicy::Kind::temporary;
      return p;
    }
    dane_only += *host == HostDane::dane_only;
    dane += *host == HostDane::dane;
  }
  if (dane_only + dane == 0) {
    p.why = "no MX host publishes secure TLSA records";
    return p;
  }
  p.kind = dane_only == hosts ? DaneTlspolicy::Kind::dane_only : DaneTlspolicy::Kind::dane;
  p.why = std::to_string(dane_only) + " of " + std::to_string(hosts) + " MX host(s) with usable secure TLSA";
  p.tlsrpt.emplace_back("policy_type", "tlsa");
  p.tlsrpt.emplace_back("policy_domain", probe.domain);
  std::size_t strings = 0, bytes = 0;
  for (const auto& mx : probe.hosts) {
    if (mx.alternate) continue;
    for (const auto& r : mx.dane.records) {
      auto text = dns::tlsa_text(r);
      if (strings == kMaxTlsrptPolicyStrings || bytes + text.size() > kMaxTlsrptPolicyBytes) break;
      ++strings;
      bytes += text.size();
      p.tlsrpt.emplace_back("policy_string", std::move(text));
    }
  }
  for (const auto& mx : probe.hosts)
    if (!mx.alternate) p.tlsrpt.emplace_back("mx_host_pattern", mx.host);
  return p;
}

std::string format_dane_tlspolicy(const DaneTlspolicy& policy, bool with_tlsrpt) {
  std::string out;
  if (policy.kind == DaneTlspolicy::Kind::dane_only) out = "dane-only";
  else if (policy.kind == DaneTlspolicy::Kind::dane) out = "dane";
  else return out;
  if (!with_tlsrpt) return out;
  for (const auto& [name, value] : policy.tlsrpt)
    out += needs_braces(value) ? " { " + name + " = " + value + " }" : " " + name + "=" + value;
  return out;
}

}  // namespace mxtls
