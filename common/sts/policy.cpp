#include "sts/policy.h"

#include <algorithm>

#include "log/sanitize.h"
#include "sts/record.h"
#include "util/ascii.h"

namespace mxtls::sts {
namespace {


// Length of the UTF-8 sequence (2-4 bytes, RFC 3629) starting at s[i], 0 if none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xc0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;   // overlong
    if (c == 0xed && b(1) >= 0xa0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;
    if (c == 0xf4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// sts-policy-ext-value: vchar [*(SP / vchar) vchar], vchar = %x21-7E / UTF-8.
bool valid_value(std::string_view v) {
  if (v.empty() || v.front() == ' ' || v.back() == ' ') return false;
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c == ' ' || (c >= 0x21 && c <= 0x7e)) {
      ++i;
      continue;
    }
    const auto n = utf8_sequence(v, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// RFC 5321 Domain: labels of letters, digits and inner hyphens, 1-63 bytes,
// 253 in all.
bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = d.find('.', start);
    const auto label = d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(is_alnum(c) || c == '-')) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string shown(std::string_view s) { return sanitize(s, 60); }

}  // namespace

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::enforce: return "enforce";
    case Mode::testing: return "testing";
    case Mode::none: return "none";
  }
  return "?";
}

PolicyParse parse_policy(std::string_view text) {
  const auto fail = [](std::string why) { return PolicyParse{std::nullopt, std::move(why)}; };
  if (text.size() > kMaxPolicySize)
    return fail("policy of " + std::to_string(text.size()) + " bytes, over the limit of " + std::to_string(kMaxPolicySize));
  Policy policy;
  bool have_version = false, have_mode = false, have_max_age = false;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    auto end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (line.find('\r') != std::string_view::npos) return fail(where + "a CR that does not end the line");
    // Trailing blanks (*WSP after a field) are allowed.
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(where + "\"" + shown(line) + "\" is not \"name: value\"");
    const auto name = line.substr(0, colon);
    if (!is_ext_name(name)) return fail(where + "bad field name \"" + shown(name) + "\"");
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (!valid_value(value)) return fail(where + "field " + std::string(name) + " has an empty or malformed value");
    policy.lines.emplace_back(line);
    if (name == "version") {
      if (have_version) continue;
      if (value != "STSv1") return fail(where + "version is \"" + shown(value) + "\", not STSv1");
      have_version = true;
    } else if (name == "mode") {
      if (have_mode) continue;
      if (value == "enforce") policy.mode = Mode::enforce;
      else if (value == "testing") policy.mode = Mode::testing;
      else if (value == "none") policy.mode = Mode::none;
      else return fail(where + "mode \"" + shown(value) + "\" is not enforce, testing or none");
      have_mode = true;
    } else if (name == "max_age") {
      if (have_max_age) continue;
      if (value.size() > 10 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(where + "max_age \"" + shown(value) + "\" is not 1-10 digits");
      int64_t age = 0;
      for (char c : value) age = age * 10 + (c - '0');
      if (age > kMaxMaxAge) return fail(where + "max_age " + std::string(value) + " is over the maximum of 31557600");
      policy.max_age = age;
      have_max_age = true;
    } else if (name == "mx") {
      const bool wildcard = value.starts_with("*.");
      const auto domain = wildcard ? value.substr(2) : value;
      if (!valid_domain(domain)) return fail(where + "mx \"" + shown(value) + "\" is not a host name or *.domain");
      auto pattern = ascii_lower(value);
      if (std::find(policy.mx.begin(), policy.mx.end(), pattern) == policy.mx.end()) policy.mx.push_back(std::move(pattern));
    }
  }
  if (!have_version) return fail("no version field");
  if (!have_mode) return fail("no mode field");
  if (!have_max_age) return fail("no max_age field");
  if (policy.mx.empty() && policy.mode != Mode::none) return fail("no mx field (required unless mode is none)");
  return {std::move(policy), ""};
}

bool mx_pattern_matches(std::string_view pattern, std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const auto equal = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
  };
  if (pattern.starts_with("*.")) {
    const auto suffix = pattern.substr(1);  // ".example.com"
    if (host.size() <= suffix.size()) return false;
    const auto label = host.substr(0, host.size() - suffix.size());
    return label.find('.') == std::string_view::npos && equal(host.substr(label.size()), suffix);
  }
  return equal(pattern, host);
}

bool policy_matches_mx(const Policy& policy, std::string_view host) {
  return std::any_of(policy.mx.begin(), policy.mx.end(), [&](const std::string& p) { return mx_pattern_matches(p, host); });
}

std::string postfix_match_pattern(std::string_view pattern) {
  return std::string(pattern.starts_with("*.") ? pattern.substr(1) : pattern);
}

}  // namespace mxtls::sts
