#include "address/domain.h"

namespace mxtls {
namespace {

// ASCII only, whatever the locale (and without its ctype calls, which
// showed in the policy hot path's profile).
bool is_label_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool is_valid_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!is_label_char(c)) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

std::string mail_domain(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  std::string domain(name);
  for (auto& c : domain) c = ascii_lower(c);
  return is_valid_domain(domain) ? domain : std::string();
}

std::string recipient_domain(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : mail_domain(address.substr(at + 1));
}

}  // namespace mxtls
