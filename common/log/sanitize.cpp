#include "log/sanitize.h"

namespace mxtls {

std::string sanitize(std::string_view untrusted, std::size_t max_len) {
  std::string out;
  const bool truncated = untrusted.size() > max_len;
  if (truncated) untrusted = untrusted.substr(0, max_len);
  out.reserve(untrusted.size() + 3);
  for (unsigned char c : untrusted) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  if (truncated) out += "...";
  return out;
}

std::string sanitize_quoted(std::string_view untrusted, std::size_t max_len) {
  std::string out;
  for (char c : sanitize(untrusted, max_len)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string sanitize_address(std::string_view untrusted, std::size_t max_len) {
  std::string out = sanitize(untrusted, max_len);
  for (char& c : out)
    if (c == '<' || c == '>') c = '?';
  return out;
}

}  // namespace mxtls
