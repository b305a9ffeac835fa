#include "codec/policy_request.h"

#include <cctype>

namespace mxtls::codec {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name)
    if (!(std::islower(c) || std::isdigit(c) || c == '_' || c == '-' || std::isupper(c))) return false;
  return true;
}

PolicyParse malformed(std::string error) {
  PolicyParse p;
  p.status = ParseStatus::malformed;
  p.error = std::move(error);
  return p;
}

}  // namespace

std::string_view PolicyRequest::get(std::string_view name) const {
  for (const auto& [n, v] : attributes)
    if (n == name) return v;
  return {};
}

PolicyParse parse_policy_request(std::string_view input) {
  PolicyParse out;
  std::size_t pos = 0;
  while (true) {
    const auto nl = input.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (input.size() - pos > kMaxPolicyLine) return malformed("attribute line longer than 8192 bytes");
      if (input.size() > kMaxPolicyRequest) return malformed("request longer than 64 KiB");
      return out;  // need more
    }
    std::string_view line = input.substr(pos, nl - pos);
    if (line.size() > kMaxPolicyLine) return malformed("attribute line longer than 8192 bytes");
    pos = nl + 1;
    if (pos > kMaxPolicyRequest) return malformed("request longer than 64 KiB");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (out.request.attributes.empty()) return malformed("empty request");
      out.status = ParseStatus::complete;
      out.consumed = pos;
      return out;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return malformed("line without '=' in request");
    const auto name = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (!valid_name(name)) return malformed("bad attribute name");
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f) return malformed("control character in attribute '" + std::string(name) + "'");
    if (out.request.attributes.size() >= kMaxPolicyAttributes) return malformed("more than 200 attributes");
    out.request.attributes.emplace_back(name, value);
  }
}


}  // namespace mxtls::codec
