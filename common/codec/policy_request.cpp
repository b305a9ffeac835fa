#include "codec/policy_request.h"

#include "util/ascii.h"

namespace mxtls::codec {
namespace {

// ASCII letters, digits, '_' and '-'.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name)
    if (!(is_ascii_alnum(c) || c == '_' || c == '-')) return false;
  return true;
}

PolicyParse malformed(PolicyParseProgress& progress, std::string error) {
  progress.reset();
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

PolicyParse parse_policy_request(std::string_view input, PolicyParseProgress& progress) {
  while (true) {
    const std::size_t pos = progress.line_start;
    const auto nl = input.find('\n', pos + progress.scanned);
    if (nl == std::string_view::npos) {
      progress.scanned = input.size() - pos;
      if (input.size() - pos > kMaxPolicyLine) return malformed(progress, "attribute line longer than 8192 bytes");
      if (input.size() > kMaxPolicyRequest) return malformed(progress, "request longer than 64 KiB");
      return {};  // need more
    }
    std::string_view line = input.substr(pos, nl - pos);
    if (line.size() > kMaxPolicyLine) return malformed(progress, "attribute line longer than 8192 bytes");
    const std::size_t next = nl + 1;
    if (next > kMaxPolicyRequest) return malformed(progress, "request longer than 64 KiB");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (progress.attributes.empty()) return malformed(progress, "empty request");
      PolicyParse out;
      out.status = ParseStatus::complete;
      out.consumed = next;
      out.request.attributes.reserve(progress.attributes.size());
      for (const auto& s : progress.attributes)
        out.request.attributes.emplace_back(input.substr(s.name, s.name_size), input.substr(s.value, s.value_size));
      progress.reset();
      return out;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return malformed(progress, "line without '=' in request");
    const auto name = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (!valid_name(name)) return malformed(progress, "bad attribute name");
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f) return malformed(progress, "control character in attribute '" + std::string(name) + "'");
    if (progress.attributes.size() >= kMaxPolicyAttributes) return malformed(progress, "more than 200 attributes");
    progress.attributes.push_back({pos, name.size(), pos + eq + 1, value.size()});
    progress.line_start = next;
    progress.scanned = 0;
  }
}

PolicyParse parse_policy_request(std::string_view input) {
  PolicyParseProgress fresh;
  return parse_policy_request(input, fresh);
}

}  // namespace mxtls::codec
