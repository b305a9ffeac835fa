// Tokenizes an INI file ("[section]" headers, "key = value" lines, '#' or ';'
// comment lines) into entries that remember their line, so configuration
// errors can name file, line and key. Pure: bytes in, entries or error out.
// It knows nothing of which keys exist; config/config.h checks that.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mxtls::ini {

inline constexpr std::size_t kMaxFileBytes = 1 << 20;
inline constexpr std::size_t kMaxLineBytes = 4096;

struct Entry {
  std::string section;  // "" before the first header
  std::string key;
  std::string value;    // trimmed, may be empty
  int line = 0;
};

struct Error {
  int line = 0;
  std::string message;
};

std::variant<std::vector<Entry>, Error> parse(std::string_view text);

}  // namespace mxtls::ini
