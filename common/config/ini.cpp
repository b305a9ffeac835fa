#include "config/ini.h"

#include <cctype>

namespace mxtls::ini {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_name(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

std::variant<std::vector<Entry>, Error> parse(std::string_view text) {
  if (text.size() > kMaxFileBytes) return Error{0, "file larger than 1 MiB"};
  std::vector<Entry> entries;
  std::string section;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (raw.size() > kMaxLineBytes) return Error{line_no, "line longer than 4096 bytes"};
    for (unsigned char c : raw)
      if (c < 0x20 && c != '\t' && c != '\r') return Error{line_no, "control character in line"};
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return Error{line_no, "section header without closing ']'"};
      const auto name = trim(line.substr(1, line.size() - 2));
      if (!is_name(name)) return Error{line_no, "bad section name '" + std::string(name) + "'"};
      section = name;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return Error{line_no, "expected 'key = value'"};
    const auto key = trim(line.substr(0, eq));
    if (!is_name(key)) return Error{line_no, "bad key name '" + std::string(key) + "'"};
    entries.push_back(Entry{section, std::string(key), std::string(trim(line.substr(eq + 1))), line_no});
  }
  return entries;
}

}  // namespace mxtls::ini
