// Postfix policy delegation protocol (SMTPD_POLICY_README), server side:
// requests are "name=value" lines ended by an empty line; replies are
// "action=..." and an empty line. Pure parsing with explicit limits; the
// first violation makes the request malformed (the caller logs and closes).
// Resumable: a request that arrives a byte at a time is examined once, not
// from its start on every read.
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

// How far the request at the front of a buffer has been read: its complete
// attribute lines (as offsets, since a growing buffer may move) and where the
// line in progress starts. Starts empty; back to empty after a complete or
// malformed request.
struct PolicyParseProgress {
  struct Span {
    std::size_t name = 0, name_size = 0, value = 0, value_size = 0;
  };
  std::vector<Span> attributes;
  std::size_t line_start = 0;  // every byte before this is a checked line
  std::size_t scanned = 0;     // bytes from line_start on hold no '\n'

  // Back to empty, keeping the attributes' room for the connection's next
  // request (a vector grown anew per request was ~6 allocations each).
  void reset() {
    attributes.clear();
    line_start = scanned = 0;
  }
};

// Parses one request from the start of `input`, resuming from `progress`:
// `input` must begin with the bytes given to the previous call with this
// progress (more may follow). Each byte is examined once.
PolicyParse parse_policy_request(std::string_view input, PolicyParseProgress& progress);

// The same from nothing, for input that is complete or parsed once.
PolicyParse parse_policy_request(std::string_view input);

}  // namespace mxtls::codec
