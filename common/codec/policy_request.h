// Postfix policy delegation protocol (SMTPD_POLICY_README), server side:
// requests are "name=value" lines ended by an empty line; replies are
// "action=..." and an empty line. Pure parsing with explicit limits; the
// first violation makes the request malformed (the caller logs and closes).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxtls::codec {

inline constexpr std::size_t kMaxPolicyLine = 8192;
inline constexpr std::size_t kMaxPolicyAttributes = 200;
inline constexpr std::size_t kMaxPolicyRequest = 65536;

// Names and values point into the parsed input, which must outlive the
// request (no copies on the daemon's hot path).
struct PolicyRequest {
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  // The value of the first attribute called `name`, or "".
  std::string_view get(std::string_view name) const;
};

enum class ParseStatus { need_more, complete, malformed };

struct PolicyParse {
  ParseStatus status = ParseStatus::need_more;
  PolicyRequest request;
  std::size_t consumed = 0;
  std::string error;
};

// Parses one request from the start of `input`.
PolicyParse parse_policy_request(std::string_view input);


}  // namespace mxtls::codec
