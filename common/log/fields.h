// Reads back the key=value fields of our own log lines as log/sanitize.h
// writes them: fields separated by ", "; a value in "..." (a quote or a
// backslash inside escaped by a backslash) or in <...> ends only at its
// closing mark, so text from a peer inside one cannot end it and add a
// field. Pure and bounded; fuzzed.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

struct LogField {
  std::string key;
  std::string value;  // without its quotes or angle brackets, unescaped
};

// The fields of `text`, e.g. `to=<a@b.test>, domain=b.test, detail="x \"y\""`,
// or nullopt when it is not such a list: a key other than [a-z0-9_]+, a key
// given twice, an unterminated quote, a bad escape, or text after a
// closing mark.
std::optional<std::vector<LogField>> parse_log_fields(std::string_view text);

// The value of the field named `key`, if there is one.
std::optional<std::string_view> find_log_field(const std::vector<LogField>& fields, std::string_view key);

}  // namespace mxtls
