// The parts of a TLS handshake that can be worked out again without the
// peer, from what a probe stored (probe/probe_facts.h): whether a client
// profile would offer the cipher a server chose, the smallest keys and DH
// groups an OpenSSL security level takes, and the verification of a stored
// chain against other trust anchors. For `mxtls report --what-if`; never
// a substitute for probing.
#pragma once
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "tls/certificate.h"
#include "tls/client_profile.h"
#include "tls/handshake.h"

namespace mxtls {

// Does a client with the profile's versions, cipher list and OpenSSL
// security level offer `cipher` (OpenSSL's name)? Level 1 and up never
// offers anonymous (aNULL) or MD5 ciphers.
bool profile_offers_cipher(const ClientProfile& profile, std::string_view cipher);
// Does it offer any anonymous (aNULL) cipher?
bool profile_offers_anonymous(const ClientProfile& profile);

// The smallest RSA, DSA or finite-field DH key an OpenSSL security level
// accepts in a handshake (level 0: OpenSSL's own floor for DH, 1024), and
// the smallest EC key.
int min_rsa_dh_bits(int security_level);
int min_ec_bits(int security_level);

struct ChainVerification {
  bool checked = false;             // false: `error` says why not
  std::vector<VerifyIssue> issues;  // every error along the chain, as the handshake records them
  std::string error;
};

// Verifies `chain` (leaf first, each with its DER) as the handshake's
// verify callback would: the profile's CA file and directory, its OpenSSL
// security level as the authentication level, SSL server purpose, at time
// `at`. No name checks (the classifier does those).
ChainVerification verify_stored_chain(const std::vector<CertificateInfo>& chain, const ClientProfile& profile, std::time_t at);

}  // namespace mxtls
