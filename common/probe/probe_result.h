// The raw evidence a probe collects for one destination: DNS outcome, and per
// MX host the SMTP dialogue, the compat handshake and the survey handshakes.
// Facts only; classify/classifier.h turns them into a verdict.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "verdict/reason.h"
#include "tls/dane.h"
#include "sts/lookup.h"
#include "tls/handshake.h"
#include "verdict/reason.h"

namespace mxtls {

struct MxProbe {
  std::string host;
  int preference = 0;
  std::string address;
  int port = 25;
  // Set when the probe could not reach the TLS stage: connect_failed,
  // timeout, banner_rejected, target_forbidden, tls_on_plain_port, dns_failure,
  // smtp_protocol_violation (a reply past smtp/reply.h's limits or not SMTP),
  // probe_error (a step of ours failed: the detail has the error).
  std::optional<Reason> failure;
  std::string failure_detail;
  std::string banner;               // first greeting line (untrusted)
  bool starttls_offered = false;
  int starttls_code = 0;            // reply to STARTTLS, 0 if not sent
  std::string starttls_reply;       // its text (untrusted)
  bool injected_bytes = false;      // data after "220" to STARTTLS (CVE-2011-0411 style)
  // dane/dane-only: the DNSSEC facts for this host (MX and address security,
  // its TLSA RRset); judged with decide_dane (tls/dane.h). The compat
  // handshake was made at the level that decision gave, with the records.
  DaneFacts dane;
  HandshakeResult compat;
  std::array<HandshakeResult, 4> survey;  // index = TlsVersion
  // With the survey, when the compat session was anonymous: a handshake
  // offering every cipher but the anonymous ones, as a client that needs
  // the certificate (verify, secure) would; `mxtls report --what-if` judges
  // such a change from it.
  HandshakeResult certified;
  // With an MTA-STS policy (testing or enforce): the handshake our MTA makes
  // under it, on a connection of its own: the mandatory (secure) profile,
  // SNI, the certificate matched against the policy's mx patterns as
  // Postfix's "secure match=" does (host_matches).
  HandshakeResult sts;
  double elapsed_s = 0;
  // Every address of an MX host is an entry of its own, in the order our
  // MTA tries them; an alternate (not its host's first address) gets the
  // compat connection, and the survey only when that fails.
  bool alternate = false;
  double greeting_s = 0;  // from connect to the end of the greeting (compat connection)

  VersionSet server_versions() const {
    VersionSet s{};
    for (auto v : kTlsVersions)
      if (survey[static_cast<std::size_t>(v)].ok) s.add(v);
    return s;
  }
};

// "mx1.example[192.0.2.1]:25", the host name sanitized for logs.
std::string format_mx(const MxProbe& mx);

struct DestinationProbe {
  std::string domain;         // what was asked for (domain or [host])
  bool literal_host = false;
  std::optional<Reason> dns_failure;  // nxdomain, null_mx, no_mx, dns_failure, dnssec_bogus
  std::string dns_detail;
  bool mx_present = false;            // hosts came from an MX RRset (not [host], not the implicit MX)
  dns::Security mx_security = dns::Security::insecure;
  std::vector<MxProbe> hosts;  // one per MX address, in the order our MTA tries them (probe/address_order.h)
  int addresses_beyond_limit = 0;  // addresses the MTA never tries (smtp_mx_address_limit): not probed
  sts::Lookup sts;             // the domain's MTA-STS policy ([mta_sts]; not for [host] targets)
  double elapsed_s = 0;
};

}  // namespace mxtls
