// What an MTA-STS lookup found for one domain (RFC 8461 3-5): the TXT
// record, the policy that applies (fetched now or from the cache), and what
// went wrong on the way. Facts only; sts/judge.h says what they mean for mail.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "sts/policy.h"
#include "verdict/reason.h"

namespace mxtls::sts {

struct Lookup {
  bool checked = false;        // a lookup ran (off, or a [host] target: false)
  std::string record;          // the v=STSv1 TXT record as published, "" if none
  std::string id;              // its id
  std::optional<Policy> policy;  // the policy in force: fetched now or cached and unexpired
  bool cached = false;         // `policy` came from the cache, not from a fetch now
  std::string policy_url;      // where it was (or would be) fetched
  std::string policy_address;  // the address the fetch connected to
  int64_t fetched_at = 0;      // Unix seconds, of `policy`
  int64_t expires_at = 0;      // fetched_at + max_age
  // Why no fresh policy could be had: sts_policy_fetch_failed (DNS, connect,
  // HTTP status, redirect, size, time), sts_policy_invalid (the TXT record or
  // the policy file), sts_webpki_invalid (the policy host's certificate).
  std::optional<Reason> problem;
  std::string problem_detail;
};

}  // namespace mxtls::sts
