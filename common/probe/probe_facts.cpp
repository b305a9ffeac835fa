#include "probe/probe_facts.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace mxtls {
namespace {

using FactsJson = nlohmann::json;

constexpr int kFactsFormat = 1;
// Per text field: the peer's words (errors, replies, names) are cut here.
constexpr std::size_t kFactsTextLimit = 256;
constexpr std::size_t kFactsMaxIssues = 20;
constexpr std::size_t kFactsMaxChain = 10;

std::string facts_cut(const std::string& s, std::size_t limit = kFactsTextLimit) { return s.substr(0, limit); }

std::string facts_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

// Raised inside read_probe_facts only; its caller turns it into an error value.
struct FactsError {
  std::string what;
};

std::string facts_unbase64(const std::string& text) {
  if (text.size() % 4 != 0) throw FactsError{"certificate is not base64"};
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw FactsError{"certificate is not base64"};
  std::size_t pad = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && pad < 2; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

FactsJson certificate_json(const CertificateInfo& c) {
  return {{"subject", facts_cut(c.subject)}, {"issuer", facts_cut(c.issuer)}, {"key", facts_cut(c.key_type, 16)},
          {"bits", c.key_bits}, {"sig", facts_cut(c.signature_algorithm, 64)}, {"nb", static_cast<int64_t>(c.not_before)},
          {"na", static_cast<int64_t>(c.not_after)}, {"self", c.self_issued}};
}

// One handshake; its certificates go to `certs`/`der` under their fingerprints.
FactsJson handshake_json(const HandshakeResult& h, FactsJson& certs, FactsJson& der) {
  FactsJson issues = FactsJson::array();
  for (std::size_t i = 0; i < h.verify_issues.size() && i < kFactsMaxIssues; ++i)
    issues.push_back({h.verify_issues[i].depth, h.verify_issues[i].code, facts_cut(h.verify_issues[i].text, 96)});
  FactsJson chain = FactsJson::array();
  for (std::size_t i = 0; i < h.chain.size() && i < kFactsMaxChain; ++i) {
    const auto& c = h.chain[i];
    if (c.sha256.size() != 64) continue;
    chain.push_back(c.sha256);
    if (!certs.contains(c.sha256)) certs[c.sha256] = certificate_json(c);
    if (!c.der.empty() && !der.contains(c.sha256)) der[c.sha256] = facts_base64(c.der);
  }
  return {{"ok", h.ok}, {"to", h.timed_out}, {"sni", h.sni_sent}, {"ver", facts_cut(h.version, 16)},
          {"ciph", facts_cut(h.cipher, 64)}, {"cbits", h.cipher_bits}, {"err", facts_cut(h.error)},
          {"sslr", h.ssl_reason}, {"alert", h.alert_received}, {"sig", facts_cut(h.peer_signature_digest, 16)},
          {"vi", issues}, {"chain", chain}, {"hm", h.host_matches}, {"dh", h.dh_bits},
          {"ccr", h.client_cert_requested}, {"rah", h.refused_after_handshake}};
}

NameMatches name_matches(const HandshakeResult& h, const MxProbe& mx, const DestinationProbe& probe) {
  NameMatches m;
  if (!h.ok || !h.leaf) return m;
  // The nexthop is the domain asked for ([host] without its brackets), as the prober has it.
  std::string nexthop = probe.domain;
  if (probe.literal_host && nexthop.size() >= 2 && nexthop.front() == '[') nexthop = nexthop.substr(1, nexthop.size() - 2);
  m.hostname = certificate_matches(h.leaf.get(), mx.host, false);
  m.nexthop = certificate_matches(h.leaf.get(), nexthop, false);
  m.dot_nexthop = certificate_matches(h.leaf.get(), nexthop, true);
  return m;
}

FactsJson host_json(const MxProbe& mx, const DestinationProbe& probe, FactsJson& certs, FactsJson& der) {
  FactsJson survey = FactsJson::array();
  for (const auto& s : mx.survey) survey.push_back(s.attempted ? handshake_json(s, certs, der) : FactsJson());
  const NameMatches names = name_matches(mx.compat, mx, probe);
  FactsJson h = {{"host", facts_cut(mx.host)}, {"pref", mx.preference}, {"addr", facts_cut(mx.address, 64)},
                 {"port", mx.port}, {"banner", facts_cut(mx.banner, 8)}, {"starttls", mx.starttls_offered},
                 {"code", mx.starttls_code}, {"reply", facts_cut(mx.starttls_reply, 128)}, {"alt", mx.alternate},
                 {"greet", mx.greeting_s}, {"names", {names.hostname, names.nexthop, names.dot_nexthop}}};
  if (mx.failure) h["failure"] = reason_code(*mx.failure);
  h["fdetail"] = facts_cut(mx.failure_detail);
  h["compat"] = mx.compat.attempted ? handshake_json(mx.compat, certs, der) : FactsJson();
  h["survey"] = survey;
  if (mx.certified.attempted) h["certified"] = handshake_json(mx.certified, certs, der);
  return h;
}

// Typed, checked reads of the stored document.
const FactsJson& facts_field(const FactsJson& obj, const char* name) {
  if (!obj.is_object()) throw FactsError{std::string("an object was expected around '") + name + "'"};
  const auto it = obj.find(name);
  if (it == obj.end()) throw FactsError{std::string("field '") + name + "' is missing"};
  return *it;
}
std::string facts_text(const FactsJson& obj, const char* name) {
  const auto& v = facts_field(obj, name);
  if (!v.is_string()) throw FactsError{std::string("field '") + name + "' is not text"};
  return v.get<std::string>();
}
int64_t facts_int(const FactsJson& obj, const char* name, int64_t lo, int64_t hi) {
  const auto& v = facts_field(obj, name);
  if (!v.is_number_integer()) throw FactsError{std::string("field '") + name + "' is not an integer"};
  const auto n = v.get<int64_t>();
  if (n < lo || n > hi) throw FactsError{std::string("field '") + name + "' is out of range"};
  return n;
}
bool facts_bool(const FactsJson& obj, const char* name) {
  const auto& v = facts_field(obj, name);
  if (!v.is_boolean()) throw FactsError{std::string("field '") + name + "' is not true or false"};
  return v.get<bool>();
}
const FactsJson& facts_array(const FactsJson& obj, const char* name, std::size_t max) {
  const auto& v = facts_field(obj, name);
  if (!v.is_array() || v.size() > max) throw FactsError{std::string("field '") + name + "' is not a list of at most " + std::to_string(max)};
  return v;
}
Reason facts_reason(const FactsJson& obj, const char* name) {
  const auto r = reason_from_code(facts_text(obj, name));
  if (!r) throw FactsError{std::string("field '") + name + "' is not a reason code"};
  return *r;
}

CertificateInfo read_certificate(const std::string& sha, const FactsJson& certs, const FactsJson* der) {
  const auto it = certs.find(sha);
  if (it == certs.end()) throw FactsError{"a chain names a certificate that is not stored"};
  const auto& c = *it;
  CertificateInfo info;
  info.sha256 = sha;
  info.subject = facts_text(c, "subject");
  info.issuer = facts_text(c, "issuer");
  info.key_type = facts_text(c, "key");
  info.key_bits = static_cast<int>(facts_int(c, "bits", 0, 1 << 20));
  info.signature_algorithm = facts_text(c, "sig");
  info.not_before = static_cast<std::time_t>(facts_int(c, "nb", INT64_MIN / 2, INT64_MAX / 2));
  info.not_after = static_cast<std::time_t>(facts_int(c, "na", INT64_MIN / 2, INT64_MAX / 2));
  info.self_issued = facts_bool(c, "self");
  // A certificate without its DER (one we never had) leaves der empty:
  // re-verifying then cannot use the chain (tls/offline_checks.h).
  if (der && der->contains(sha)) {
    const auto& d = (*der)[sha];
    if (!d.is_string()) throw FactsError{"a stored certificate's DER is not text"};
    info.der = facts_unbase64(d.get<std::string>());
  }
  return info;
}

HandshakeResult read_handshake(const FactsJson& h, const FactsJson& certs, const FactsJson* der) {
  HandshakeResult r;
  if (h.is_null()) return r;
  r.attempted = true;
  r.ok = facts_bool(h, "ok");
  r.timed_out = facts_bool(h, "to");
  r.sni_sent = facts_bool(h, "sni");
  r.version = facts_text(h, "ver");
  r.cipher = facts_text(h, "ciph");
  r.cipher_bits = static_cast<int>(facts_int(h, "cbits", 0, 100000));
  r.error = facts_text(h, "err");
  r.ssl_reason = static_cast<int>(facts_int(h, "sslr", 0, 1 << 24));
  r.alert_received = static_cast<int>(facts_int(h, "alert", -1, 255));
  r.peer_signature_digest = facts_text(h, "sig");
  for (const auto& i : facts_array(h, "vi", kFactsMaxIssues)) {
    if (!i.is_array() || i.size() != 3 || !i[0].is_number_integer() || !i[1].is_number_integer() || !i[2].is_string())
      throw FactsError{"a verify issue is not [depth, code, text]"};
    const auto depth = i[0].get<int64_t>(), code = i[1].get<int64_t>();
    if (depth < 0 || depth > 100 || code < 0 || code > 100000) throw FactsError{"a verify issue is out of range"};
    r.verify_issues.push_back({static_cast<int>(depth), static_cast<int>(code), i[2].get<std::string>()});
  }
  for (const auto& sha : facts_array(h, "chain", kFactsMaxChain)) {
    if (!sha.is_string()) throw FactsError{"a chain entry is not a fingerprint"};
    r.chain.push_back(read_certificate(sha.get<std::string>(), certs, der));
  }
  if (!r.chain.empty()) r.leaf = parse_certificate(r.chain.front().der);
  r.host_matches = facts_bool(h, "hm");
  r.dh_bits = static_cast<int>(facts_int(h, "dh", 0, 1 << 20));
  r.client_cert_requested = facts_bool(h, "ccr");
  r.refused_after_handshake = facts_bool(h, "rah");
  return r;
}

MxProbe read_host(const FactsJson& h, const FactsJson& certs, const FactsJson* der, NameMatches& names) {
  MxProbe mx;
  mx.host = facts_text(h, "host");
  mx.preference = static_cast<int>(facts_int(h, "pref", 0, 65535));
  mx.address = facts_text(h, "addr");
  mx.port = static_cast<int>(facts_int(h, "port", 0, 65535));
  mx.banner = facts_text(h, "banner");
  mx.starttls_offered = facts_bool(h, "starttls");
  mx.starttls_code = static_cast<int>(facts_int(h, "code", 0, 999));
  mx.starttls_reply = facts_text(h, "reply");
  mx.alternate = facts_bool(h, "alt");
  const auto& greet = facts_field(h, "greet");
  if (!greet.is_number() || greet.get<double>() < 0 || greet.get<double>() > 1e6) throw FactsError{"field 'greet' is not a time"};
  mx.greeting_s = greet.get<double>();
  const auto& n = facts_array(h, "names", 3);
  if (n.size() != 3 || !n[0].is_boolean() || !n[1].is_boolean() || !n[2].is_boolean()) throw FactsError{"field 'names' is not three booleans"};
  names = {n[0].get<bool>(), n[1].get<bool>(), n[2].get<bool>()};
  if (h.contains("failure")) mx.failure = facts_reason(h, "failure");
  mx.failure_detail = facts_text(h, "fdetail");
  mx.compat = read_handshake(facts_field(h, "compat"), certs, der);
  const auto& survey = facts_array(h, "survey", mx.survey.size());
  if (survey.size() != mx.survey.size()) throw FactsError{"field 'survey' does not have one entry per TLS version"};
  for (std::size_t i = 0; i < survey.size(); ++i) mx.survey[i] = read_handshake(survey[i], certs, der);
  if (h.contains("certified")) mx.certified = read_handshake(h["certified"], certs, der);  // facts before it have none
  return mx;
}

ProbeFacts read_document(const FactsJson& doc) {
  if (facts_int(doc, "v", 0, 1000) != kFactsFormat) throw FactsError{"unknown format version"};
  ProbeFacts f;
  const auto& s = facts_field(doc, "settings");
  f.settings.profile = facts_text(s, "profile");
  const auto level = level_from_name(facts_text(s, "level"));
  if (!level) throw FactsError{"field 'level' is not a security level"};
  f.settings.level = *level;
  f.settings.openssl_security_level = static_cast<int>(facts_int(s, "ossl", 0, 5));
  f.settings.versions.bits = static_cast<unsigned>(facts_int(s, "versions", 0, 15));
  f.settings.cipher_list = facts_text(s, "ciphers");
  f.settings.ca_file = facts_text(s, "ca_file");
  f.settings.ca_path = facts_text(s, "ca_path");
  f.settings.send_sni = facts_bool(s, "sni");
  auto& p = f.probe;
  p.domain = facts_text(doc, "domain");
  p.literal_host = facts_bool(doc, "literal");
  if (doc.contains("dns_failure")) p.dns_failure = facts_reason(doc, "dns_failure");
  p.dns_detail = facts_text(doc, "dns_detail");
  p.mx_present = facts_bool(doc, "mx_present");
  p.addresses_beyond_limit = static_cast<int>(facts_int(doc, "beyond", 0, 1 << 20));
  const auto& certs = facts_field(doc, "certs");
  if (!certs.is_object()) throw FactsError{"field 'certs' is not an object"};
  f.certificates_kept = doc.contains("der");
  const FactsJson* der = f.certificates_kept ? &facts_field(doc, "der") : nullptr;
  if (der && !der->is_object()) throw FactsError{"field 'der' is not an object"};
  for (const auto& h : facts_array(doc, "hosts", kMaxFactsHosts)) {
    NameMatches names;
    p.hosts.push_back(read_host(h, certs, der, names));
    f.names.push_back(names);
  }
  return f;
}

}  // namespace

bool NameMatches::any_of(const std::vector<std::string>& match) const {
  for (const auto& m : match)
    if ((m == "hostname" && hostname) || (m == "nexthop" && nexthop) || (m == "dot-nexthop" && dot_nexthop)) return true;
  return false;
}

std::string encode_probe_facts(const DestinationProbe& probe, const ClientProfile& profile) {
  FactsJson certs = FactsJson::object(), der = FactsJson::object(), hosts = FactsJson::array();
  if (probe.hosts.size() > kMaxFactsHosts)
    return FactsJson{{"v", kFactsFormat}, {"not_kept", std::to_string(probe.hosts.size()) + " addresses"}}.dump();
  for (const auto& mx : probe.hosts) hosts.push_back(host_json(mx, probe, certs, der));
  FactsJson doc = {{"v", kFactsFormat},
                   {"settings",
                    {{"profile", facts_cut(profile.name, 16)}, {"level", level_name(profile.level)},
                     {"ossl", profile.openssl_security_level}, {"versions", profile.versions.bits},
                     {"ciphers", facts_cut(profile.cipher_list, 1024)}, {"ca_file", facts_cut(profile.ca_file, 1024)},
                     {"ca_path", facts_cut(profile.ca_path, 1024)}, {"sni", profile.send_sni}}},
                   {"domain", facts_cut(probe.domain)}, {"literal", probe.literal_host},
                   {"dns_detail", facts_cut(probe.dns_detail)}, {"mx_present", probe.mx_present},
                   {"beyond", probe.addresses_beyond_limit}, {"hosts", hosts}, {"certs", certs}};
  if (probe.dns_failure) doc["dns_failure"] = reason_code(*probe.dns_failure);
  // dump() with replacement: a peer's text that is not UTF-8 never makes this throw.
  const auto dump = [&doc] { return doc.dump(-1, ' ', false, FactsJson::error_handler_t::replace); };
  doc["der"] = der;
  std::string text = dump();
  if (text.size() <= kMaxFactsBytes) return text;
  doc.erase("der");
  text = dump();
  if (text.size() <= kMaxFactsBytes) return text;
  return FactsJson{{"v", kFactsFormat}, {"not_kept", std::to_string(text.size()) + " bytes without certificates"}}.dump();
}

FactsRead read_probe_facts(std::string_view text) {
  FactsRead out;
  if (text.empty()) {
    out.error = "no facts stored";
    return out;
  }
  if (text.size() > kMaxFactsBytes) {
    out.error = "cannot read stored facts: over " + std::to_string(kMaxFactsBytes) + " bytes";
    return out;
  }
  const FactsJson doc = FactsJson::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    out.error = "cannot read stored facts: not JSON";
    return out;
  }
  try {
    if (doc.is_object() && doc.contains("not_kept") && doc["not_kept"].is_string()) {
      out.error = "facts not kept (" + facts_cut(doc["not_kept"].get<std::string>(), 64) + " over the " +
                  std::to_string(kMaxFactsBytes / 1024) + " KiB bound)";
      return out;
    }
    out.facts = read_document(doc);
  } catch (const FactsError& e) {
    out.error = "cannot read stored facts: " + e.what;
  }
  return out;
}

}  // namespace mxtls
