#include "log/fields.h"

#include <algorithm>

namespace mxtls {
namespace {

bool is_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads the value that opens at `pos` with '"' or '<' up to its closing
// mark; leaves `pos` after that mark.
std::optional<std::string> enclosed_value(std::string_view text, std::size_t& pos) {
  const char close = text[pos] == '"' ? '"' : '>';
  std::string value;
  for (++pos; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == close) {
      ++pos;
      return value;
    }
    if (close == '"' && c == '\\') {
      if (++pos == text.size() || (text[pos] != '"' && text[pos] != '\\')) return std::nullopt;
      c = text[pos];
    }
    value.push_back(c);
  }
  return std::nullopt;  // unterminated
}

}  // namespace

std::optional<std::vector<LogField>> parse_log_fields(std::string_view text) {
  std::vector<LogField> fields;
  std::size_t pos = 0;
  while (true) {
    const auto eq = text.find('=', pos);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = text.substr(pos, eq - pos);
    if (!is_key(key) || find_log_field(fields, key)) return std::nullopt;
    pos = eq + 1;
    std::string value;
    if (pos < text.size() && (text[pos] == '"' || text[pos] == '<')) {
      auto enclosed = enclosed_value(text, pos);
      if (!enclosed) return std::nullopt;
      value = std::move(*enclosed);
      if (pos != text.size() && text.substr(pos, 2) != ", ") return std::nullopt;
    } else {
      const auto end = std::min(text.find(", ", pos), text.size());
      value = text.substr(pos, end - pos);
      pos = end;
    }
    fields.push_back({std::string(key), std::move(value)});
    if (pos == text.size()) return fields;
    pos += 2;
  }
}

std::optional<std::string_view> find_log_field(const std::vector<LogField>& fields, std::string_view key) {
  for (const auto& f : fields)
    if (f.key == key) return f.value;
  return std::nullopt;
}

}  // namespace mxtls
