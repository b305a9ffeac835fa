// Netstrings (D. J. Bernstein): "<length>:<bytes>," as Postfix's socketmap
// uses them. Pure; the length is bounded before any byte is trusted.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "codec/policy_request.h"  // ParseStatus

namespace mxtls::codec {

struct NetstringParse {
  ParseStatus status = ParseStatus::need_more;
  std::string_view payload;  // points into the input
  std::size_t consumed = 0;
  std::string error;
};

NetstringParse parse_netstring(std::string_view input, std::size_t max_payload);
std::string encode_netstring(std::string_view payload);

}  // namespace mxtls::codec
