// Mail domains as every part of mxtls keys them: validation of a host or
// domain name and the one normalizer (lower case, no trailing dot) used for
// recipients, socketmap keys, configured domain overrides and log lines.
// Pure; knows nothing of DNS or probing.
#pragma once
#include <string>
#include <string_view>

namespace mxtls {

// Letters, digits, '-' and '_' in labels of 1-63 bytes, 253 bytes in all.
bool is_valid_domain(std::string_view name);

// A destination domain as the policy server, socketmap and milter key it:
// lower case, trailing dot dropped; "" when not a valid domain name.
// mail_domain takes a bare domain, recipient_domain the part after the
// last '@' of an address ("" without one).
std::string mail_domain(std::string_view name);
std::string recipient_domain(std::string_view address);

}  // namespace mxtls
