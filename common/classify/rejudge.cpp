#include "classify/rejudge.h"

#include <openssl/ssl.h>

#include "classify/classifier.h"
#include "tls/offline_checks.h"

namespace mxtls {
namespace {

bool rejudge_legacy_digest(const std::string& d) { return d == "SHA1" || d == "MD5" || d == "MD5-SHA1"; }

VersionSet effective_versions_of(const ProbeSettings& s) {
  ClientProfile p;
  p.versions = s.versions;
  p.openssl_security_level = s.openssl_security_level;
  return p.effective_versions();
}

std::optional<TlsVersion> highest_version(VersionSet set) {
  std::optional<TlsVersion> top;
  for (auto v : kTlsVersions)
    if (set.has(v)) top = v;
  return top;
}

// The handshake the new profile makes fails where the stored one worked:
// the reason as OpenSSL would give it, so the classifier names it as for a
// probe that saw it.
void fail_handshake(HandshakeResult& hs, int ssl_reason, const std::string& why) {
  hs.ok = false;
  hs.ssl_reason = ssl_reason;
  hs.error = why;
  hs.alert_received = -1;
  hs.version.clear();
  hs.cipher.clear();
  hs.verify_issues.clear();
  hs.chain.clear();
  hs.leaf.reset();
}

struct HostChange {
  std::string unknown;  // set: cannot predict this address
  std::vector<std::string> notes;
};

// A handshake that failed under the probe's settings: it stays failed when
// the new settings allow nothing more; with more allowed, only the survey
// can tell (and only that no version is in common).
void adjust_failed(MxProbe& mx, const ProbeSettings& was, const ClientProfile& now, HostChange& change) {
  const VersionSet before = effective_versions_of(was), after = now.effective_versions();
  const bool same_ciphers = was.cipher_list == now.cipher_list;
  const bool allows_no_more = after.intersect(before) == after && now.openssl_security_level >= was.openssl_security_level;
  if (same_ciphers && allows_no_more) return;
  const VersionSet server = mx.server_versions();
  if (!server.empty() && server.intersect(after).empty()) return;  // no version in common either way
  change.unknown = "the handshake failed under the probe's settings (" + mx.compat.error +
                   ") and the proposed ones allow other versions, ciphers or keys: probe again";
}

// Stored leaf key and DH group under a raised OpenSSL security level.
bool refused_by_security_level(MxProbe& mx, const ProbeSettings& was, const ClientProfile& now, HostChange& change) {
  auto& hs = mx.compat;
  const int level = now.openssl_security_level;
  if (level <= was.openssl_security_level) return false;
  if (rejudge_legacy_digest(hs.peer_signature_digest)) {
    change.notes.push_back(format_mx(mx) + ": the server signed with " + hs.peer_signature_digest +
                           " when offered SHA-2 too; assumed it cannot sign otherwise");
    fail_handshake(hs, SSL_R_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED, "legacy sigalg disallowed or unsupported (what-if)");
    return true;
  }
  if (hs.dh_bits > 0 && hs.dh_bits < min_rsa_dh_bits(level)) {
    fail_handshake(hs, SSL_R_DH_KEY_TOO_SMALL, "dh key too small (what-if)");
    return true;
  }
  if (!hs.chain.empty()) {
    const auto& leaf = hs.chain.front();
    const bool rsa_like = leaf.key_type == "RSA" || leaf.key_type == "DSA";
    if ((rsa_like && leaf.key_bits < min_rsa_dh_bits(level)) || (leaf.key_type == "EC" && leaf.key_bits < min_ec_bits(level))) {
      fail_handshake(hs, SSL_R_EE_KEY_TOO_SMALL, "ee key too small (what-if)");
      return true;
    }
  }
  return false;
}

// The stored chain against the new trust anchors or authentication level.
void reverify(MxProbe& mx, const ProbeSettings& was, const ClientProfile& now, std::time_t at, HostChange& change) {
  auto& hs = mx.compat;
  if (hs.chain.empty()) return;  // anonymous: nothing was verified
  const bool anchors_changed = was.ca_file != now.ca_file || was.ca_path != now.ca_path;
  if (!anchors_changed && was.openssl_security_level == now.openssl_security_level) return;
  const ChainVerification checked = verify_stored_chain(hs.chain, now, at);
  if (checked.checked) {
    hs.verify_issues = checked.issues;
  } else if (anchors_changed && level_authenticates(now.level)) {
    change.unknown = "cannot verify the stored chain against the proposed trust anchors: " + checked.error;
  } else {
    change.notes.push_back(format_mx(mx) + ": verify errors as the probe saw them (" + checked.error + ")");
  }
}

// A survey handshake `s` stands for the compat handshake under the new
// settings: the survey does not verify, so its chain is verified here and
// the names matched. False when it cannot (no chain, or it cannot be verified).
bool take_handshake(MxProbe& mx, const HandshakeResult& s, const std::string& nexthop, const ClientProfile& now, std::time_t at,
                    const char* seen_in, HostChange& change) {
  if (s.chain.empty()) return false;
  const ChainVerification checked = verify_stored_chain(s.chain, now, at);
  if (!checked.checked) return false;
  HandshakeResult hs = s;
  hs.verify_issues = checked.issues;
  hs.leaf = parse_certificate(s.chain.front().der);
  hs.sni_sent = mx.compat.sni_sent;
  hs.host_matches = false;
  for (const auto& m : now.match)
    hs.host_matches = hs.host_matches || (m == "hostname" && certificate_matches(hs.leaf.get(), mx.host, false)) ||
                      (m == "nexthop" && certificate_matches(hs.leaf.get(), nexthop, false)) ||
                      (m == "dot-nexthop" && certificate_matches(hs.leaf.get(), nexthop, true));
  change.notes.push_back(format_mx(mx) + ": the server chose " + mx.compat.cipher + ", which the proposed settings do not offer; " +
                         "judged with " + s.cipher + ", which it took " + seen_in + " (" + (s.sni_sent ? "with" : "without") +
                         " SNI)");
  mx.compat = hs;
  return true;
}

// The server chose a cipher the new settings do not offer (an anonymous
// one, at OpenSSL level 1). The certified handshake (made when the session
// was anonymous, offering every cipher but those) shows what it takes with
// a certificate, or that it takes none; else the survey's handshake at the
// same version, made offering every cipher, may show one it takes with a
// certificate. Either counts only if the new settings offer that cipher.
bool take_survey_handshake(MxProbe& mx, const std::string& nexthop, const ClientProfile& now, std::time_t at,
                           HostChange& change) {
  const HandshakeResult& certified = mx.certified;
  if (mx.compat.anonymous() && certified.attempted && !profile_offers_anonymous(now)) {
    if (certified.ok && version_from_name(certified.version) && now.effective_versions().has(*version_from_name(certified.version)) &&
        profile_offers_cipher(now, certified.cipher))
      return take_handshake(mx, certified, nexthop, now, at, "offered no anonymous cipher", change);
    if (!certified.ok && !certified.timed_out && certified.alert_received >= 0) {
      change.notes.push_back(format_mx(mx) + ": offered every cipher but the anonymous ones, the server refused (" +
                             certified.error + "): it has no certificate to offer");
      fail_handshake(mx.compat, SSL_R_NO_SHARED_CIPHER, "no shared cipher: the server takes only anonymous ciphers (what-if)");
      mx.compat.alert_received = certified.alert_received;
      return true;
    }
  }
  const auto version = version_from_name(mx.compat.version);
  const HandshakeResult& s = mx.survey[static_cast<std::size_t>(*version)];
  if (!s.ok || s.version != mx.compat.version || !profile_offers_cipher(now, s.cipher)) return false;
  return take_handshake(mx, s, nexthop, now, at, "in the survey", change);
}

void adjust_completed(MxProbe& mx, const std::string& nexthop, const ProbeSettings& was, const ClientProfile& now,
                      std::time_t at, HostChange& change) {
  auto& hs = mx.compat;
  const VersionSet before = effective_versions_of(was), after = now.effective_versions();
  const auto negotiated = version_from_name(hs.version);
  if (!negotiated) {
    change.unknown = "the stored handshake has no version OpenSSL names";
    return;
  }
  if (!after.has(*negotiated)) {
    // The server chose the highest version both sides spoke: with a higher
    // one on offer then, it speaks none above this (the survey, when there
    // is one, says the same); below it, only the survey knows.
    bool only_higher = !after.empty();
    for (auto v : kTlsVersions)
      if (after.has(v) && v < *negotiated) only_higher = false;
    const auto top = highest_version(before);
    const bool server_max_known = top && *negotiated < *top;
    const VersionSet server = mx.server_versions();
    if ((only_higher && server_max_known) || (!server.empty() && server.intersect(after).empty())) {
      fail_handshake(hs, SSL_R_UNSUPPORTED_PROTOCOL, "unsupported protocol: the server negotiated " +
                                                         std::string(version_name(*negotiated)) + ", the proposed settings allow " +
                                                         after.to_string() + " (what-if)");
      return;
    }
    change.unknown = "the server negotiated " + std::string(version_name(*negotiated)) +
                     ", which the proposed settings do not allow, and the probe did not see which others it speaks: probe again";
    return;
  }
  if ((was.cipher_list != now.cipher_list || was.openssl_security_level != now.openssl_security_level || before != after) &&
      !profile_offers_cipher(now, hs.cipher)) {
    if (!take_survey_handshake(mx, nexthop, now, at, change)) {
      change.unknown = "the server chose " + hs.cipher + (hs.anonymous() ? " (anonymous)" : "") +
                       ", which the proposed settings do not offer, and the survey shows no other it takes: probe again";
      return;
    }
    if (mx.compat.ok) refused_by_security_level(mx, was, now, change);
    return;
  }
  if (refused_by_security_level(mx, was, now, change)) return;
  reverify(mx, was, now, at, change);
}

}  // namespace

Rejudged rejudge_probe(const ProbeFacts& facts, const ClientProfile& profile, std::time_t probed_at) {
  Rejudged out;
  if (level_is_dane(facts.settings.level) || level_is_dane(profile.level)) {
    out.unknown = "DANE levels need the probe's DNSSEC facts, which are not stored: probe again";
    return out;
  }
  DestinationProbe probe = facts.probe;
  // The nexthop names match against: the domain asked for, [host] without its brackets.
  std::string nexthop = probe.domain;
  if (probe.literal_host && nexthop.size() >= 2 && nexthop.front() == '[') nexthop = nexthop.substr(1, nexthop.size() - 2);
  for (std::size_t i = 0; i < probe.hosts.size(); ++i) {
    MxProbe& mx = probe.hosts[i];
    if (mx.compat.ok && i < facts.names.size()) mx.compat.host_matches = facts.names[i].any_of(profile.match);
    if (mx.failure || !mx.starttls_offered || mx.starttls_code != 220 || !mx.compat.attempted || mx.compat.timed_out) continue;
    HostChange change;
    if (mx.compat.ok) adjust_completed(mx, nexthop, facts.settings, profile, probed_at, change);
    else adjust_failed(mx, facts.settings, profile, change);
    out.notes.insert(out.notes.end(), change.notes.begin(), change.notes.end());
    if (!change.unknown.empty()) {
      out.unknown = format_mx(mx) + ": " + change.unknown;
      return out;
    }
  }
  out.verdict = classify_destination(probe, profile);
  return out;
}

}  // namespace mxtls
