// Makes untrusted text (banners, certificate names, addresses, peer errors)
// safe for one log line: control characters, newlines and non-ASCII bytes
// become '?', as Postfix's printable() does, and the result is bounded.
// Text inside key="..." is escaped so it cannot end its field; log/fields.h
// reads such lines back.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace mxtls {

inline constexpr std::size_t kLogFieldLimit = 200;

// Replaces unsafe bytes with '?'; if longer than max_len keeps the first
// max_len bytes and appends "...".
std::string sanitize(std::string_view untrusted, std::size_t max_len = kLogFieldLimit);

// sanitize(), then escapes '"' and '\\' with a backslash, so the value can
// sit inside key="..." and ends only at the closing quote.
std::string sanitize_quoted(std::string_view untrusted, std::size_t max_len = kLogFieldLimit);

// sanitize(), then also replaces '<' and '>' so an address inside to=<...>
// ends at the first '>' (a quoted local part cannot forge the fields after
// it for `mxtls report`, which reads these lines back).
std::string sanitize_address(std::string_view untrusted, std::size_t max_len = 120);

}  // namespace mxtls
