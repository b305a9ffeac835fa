// The evidence of one destination's probe as a bounded text for the store,
// so `mxtls report --what-if` can judge it again under other settings
// without probing: per address the dialogue, the compat, survey and
// certified handshakes (versions, cipher, alert, verify issues, DH group, certificate
// facts) and whether the leaf names the MX host, the domain or a subdomain;
// the certificates' DER while the whole stays within kMaxFactsBytes (over
// it the DER is dropped first and the facts say so). Not kept: the banner
// beyond its first bytes, DANE and MTA-STS facts. The stored text is
// untrusted input: reading it never trusts a length, a type or a count.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/probe_result.h"
#include "tls/client_profile.h"

namespace mxtls {

inline constexpr std::size_t kMaxFactsBytes = 16 * 1024;
inline constexpr std::size_t kMaxFactsHosts = 32;

// What the compat handshakes were made with: re-judging starts from these.
struct ProbeSettings {
  std::string profile;  // postfix, sendmail, openssl, custom
  SecurityLevel level = SecurityLevel::may;
  int openssl_security_level = 0;
  VersionSet versions;
  std::string cipher_list, ca_file, ca_path;
  bool send_sni = false;
};

// Which of Postfix's match names the compat handshake's leaf certificate names.
struct NameMatches {
  bool hostname = false, nexthop = false, dot_nexthop = false;
  // As the prober's host_matches: any of the profile's match names.
  bool any_of(const std::vector<std::string>& match) const;
};

struct ProbeFacts {
  ProbeSettings settings;
  DestinationProbe probe;            // hosts' dane and sts are empty
  std::vector<NameMatches> names;    // parallel to probe.hosts
  bool certificates_kept = true;     // false: the DER was dropped to stay within kMaxFactsBytes
};

// The facts of `probe`, made under `profile`, as compact JSON of at most
// kMaxFactsBytes; a probe whose facts do not fit even without certificates
// gives a short text that reads back as "not kept".
std::string encode_probe_facts(const DestinationProbe& probe, const ClientProfile& profile);

struct FactsRead {
  std::optional<ProbeFacts> facts;
  std::string error;  // "no facts stored", "facts not kept: ...", "cannot read stored facts: ..."
};
FactsRead read_probe_facts(std::string_view text);

}  // namespace mxtls
