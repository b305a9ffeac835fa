#include "tls/sendmail_access.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <strings.h>

#include "tls/client_profile.h"
#include "tls/sendmail_settings.h"
#include "util/split.h"

namespace mxtls {
namespace {

constexpr std::size_t kMaxAccessLine = 4096;
constexpr std::size_t kMaxAccessLines = 100000;
constexpr std::size_t kMaxAccessBytes = 16 << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Sendmail's D ruleset (host name, then each parent domain), then A (the
// address, then it without its last part: 192.0.2 / 192.0 / 192), then the
// bare tag; the first entry found decides.
std::optional<std::pair<std::string, std::string>> look_up(const std::map<std::string, std::string>& map,
                                                          const std::string& host, const std::string& address) {
  std::string name = lower(host);
  while (!name.empty() && name.back() == '.') name.pop_back();
  while (!name.empty()) {
    if (const auto it = map.find(name); it != map.end()) return *it;
    const auto dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  std::string addr = lower(address);
  while (!addr.empty()) {
    if (const auto it = map.find(addr); it != map.end()) return *it;
    const auto cut = addr.find_last_of(addr.find(':') != std::string::npos ? ":" : ".");
    if (cut == std::string::npos) break;
    addr.erase(cut);
    while (!addr.empty() && addr.back() == ':') addr.pop_back();
  }
  if (const auto it = map.find(""); it != map.end()) return *it;
  return std::nullopt;
}

}  // namespace

SendmailAccess parse_sendmail_access(std::string_view text, const std::string& origin) {
  SendmailAccess a;
  a.source = origin;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (++line_no > kMaxAccessLines) throw ProfileError(origin + ": more than " + std::to_string(kMaxAccessLines) + " lines");
    if (line.size() > kMaxAccessLine) throw ProfileError(origin + ":" + std::to_string(line_no) + ": line too long");
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    const auto sep = line.find_first_of(" \t");
    const std::string key = lower(line.substr(0, sep));
    std::string value = sep == std::string_view::npos ? std::string() : std::string(line.substr(sep));
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (key.starts_with("tls_srv:")) a.tls_srv[key.substr(8)] = value;
    else if (key.starts_with("try_tls:")) a.try_tls[key.substr(8)] = value;
  }
  return a;
}

SendmailAccess read_sendmail_access(const std::string& path) {
  return parse_sendmail_access(read_bounded_file(path, kMaxAccessBytes, "access map source"), path);
}

SendmailRequirement parse_requirement(std::string_view value) {
  SendmailRequirement r;
  std::string v = lower(value);
  v.erase(std::remove_if(v.begin(), v.end(), [](char c) { return c == ' ' || c == '\t'; }), v.end());
  if (v.starts_with("perm+")) {
    r.permanent = true;
    v.erase(0, 5);
  } else if (v.starts_with("temp+")) {
    v.erase(0, 5);
  }
  v = v.substr(0, v.find('+'));  // extensions (CN:, CS:, ...) are not modelled
  const auto bits = [](std::string_view s) {
    int n = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 100000) return -1;
      n = n * 10 + (c - '0');
    }
    return s.empty() ? -1 : n;
  };
  if (v == "verify") r.verify = true;
  else if (v.starts_with("verify:") && bits(v.substr(7)) >= 0) {
    r.verify = true;
    r.min_bits = bits(v.substr(7));
  } else if (v.starts_with("encr:") && bits(v.substr(5)) >= 0) {
    r.min_bits = bits(v.substr(5));
  } else {
    r.permanent = false;  // any other value asks nothing
  }
  return r;
}

SendmailRequirement server_requirement(const SendmailAccess& access, const std::string& host, const std::string& address) {
  const auto entry = look_up(access.tls_srv, host, address);
  if (!entry) return {};
  SendmailRequirement r = parse_requirement(entry->second);
  r.rule = "TLS_Srv:" + entry->first + " " + entry->second;
  return r;
}

bool tries_starttls(const SendmailAccess& access, const std::string& host, const std::string& address, std::string& rule) {
  const auto entry = look_up(access.try_tls, host, address);
  if (!entry || strcasecmp(entry->second.c_str(), "NO") != 0) return true;
  rule = "Try_TLS:" + entry->first + " " + entry->second;
  return false;
}

}  // namespace mxtls
