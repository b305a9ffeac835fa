#include "address/domain.h"

#include "util/ascii.h"

namespace mxtls {

bool is_valid_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(is_ascii_alnum(c) || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

std::string mail_domain(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  std::string domain = ascii_lower(name);
  if (!is_valid_domain(domain)) return {};
  return domain;  // moved, not copied (a conditional expression would copy)
}

std::string recipient_domain(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : mail_domain(address.substr(at + 1));
}

}  // namespace mxtls
