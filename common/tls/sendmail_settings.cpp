#include "tls/sendmail_settings.h"

#include <openssl/ssl.h>
#include <strings.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "tls/client_profile.h"
#include "util/split.h"

namespace mxtls {
namespace {

constexpr std::size_t kMaxCfBytes = 4 << 20;
constexpr std::size_t kMaxCfLine = 64 * 1024;

// The ClientSSLOptions names that change which versions a handshake can
// use; every other name (SSL_OP_ALL, SSL_OP_NO_TICKET, ...) leaves them be.
const std::array<std::pair<const char*, TlsVersion>, 4> kNoVersion{{
    {"SSL_OP_NO_TLSv1", TlsVersion::tls1_0},
    {"SSL_OP_NO_TLSv1_1", TlsVersion::tls1_1},
    {"SSL_OP_NO_TLSv1_2", TlsVersion::tls1_2},
    {"SSL_OP_NO_TLSv1_3", TlsVersion::tls1_3},
}};
const std::array<std::pair<unsigned long long, TlsVersion>, 4> kNoVersionBits{{
    {SSL_OP_NO_TLSv1, TlsVersion::tls1_0},
    {SSL_OP_NO_TLSv1_1, TlsVersion::tls1_1},
    {SSL_OP_NO_TLSv1_2, TlsVersion::tls1_2},
    {SSL_OP_NO_TLSv1_3, TlsVersion::tls1_3},
}};

void set_version(VersionSet& set, TlsVersion v, bool disable) {
  if (disable) set.bits &= ~(1u << static_cast<unsigned>(v));
  else set.add(v);
}

// Sendmail's readssloptions: words separated by spaces or commas, each a
// name or a number, '+' (the default) sets the bits, '-' clears them.
VersionSet apply_ssl_options(VersionSet set, const std::string& value, const std::string& origin) {
  for (std::string word : split_list(value, " ,\t")) {
    bool set_bits = true;
    if (word[0] == '+' || word[0] == '-') {
      set_bits = word[0] == '+';
      word.erase(0, 1);
    }
    if (word.empty()) continue;
    if (std::isdigit(static_cast<unsigned char>(word[0]))) {
      errno = 0;
      char* end = nullptr;
      const unsigned long long bits = std::strtoull(word.c_str(), &end, 0);
      if (errno != 0 || *end != '\0') throw ProfileError(origin + ": ClientSSLOptions: bad number '" + word + "'");
      for (const auto& [bit, v] : kNoVersionBits)
        if (bits & bit) set_version(set, v, set_bits);
      continue;
    }
    for (const auto& [name, v] : kNoVersion)
      if (strcasecmp(word.c_str(), name) == 0) set_version(set, v, set_bits);
  }
  return set;
}

bool sendmail_bool(const std::string& value) {
  // Sendmail's atobool: true unless the value starts with f, F, n or N (empty is true).
  return value.empty() || std::strchr("fFnN", value[0]) == nullptr;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// "Kaccess hash -T<TMPF> -o /etc/mail/access": the first word after the
// class that is not a flag is the map's file.
std::string access_map_file(std::string_view rest) {
  const auto words = split_list(rest, " \t");
  for (std::size_t i = 1; i < words.size(); ++i)
    if (words[i][0] != '-') return words[i];
  return {};
}

}  // namespace

SendmailTlsSettings parse_sendmail_cf(std::string_view text, const std::string& origin) {
  SendmailTlsSettings s;
  s.source = origin;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.size() > kMaxCfLine) throw ProfileError(origin + ":" + std::to_string(line_no) + ": line too long");
    if (line.starts_with("Kaccess ") || line.starts_with("Kaccess\t")) {
      s.access_map = access_map_file(line.substr(7));
      continue;
    }
    // Long options: "O Name=value" (name case-insensitive).
    if (!line.starts_with("O ")) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = trim(line.substr(2, eq - 2));
    const std::string value = trim(line.substr(eq + 1));
    const auto is = [&](const char* n) { return strcasecmp(name.c_str(), n) == 0; };
    if (is("CipherList")) s.cipher_list = value;
    else if (is("ClientSSLOptions")) {
      s.client_ssl_options = value;
      s.versions = apply_ssl_options(kAllVersions, value, origin);
    } else if (is("TLSFallbacktoClear")) s.fallback_to_clear = sendmail_bool(value);
    else if (is("CACertFile")) s.ca_file = value;
    else if (is("CACertPath")) s.ca_path = value;
  }
  return s;
}

std::string read_bounded_file(const std::string& path, std::size_t limit, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ProfileError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > limit) throw ProfileError(what + " " + path + " is larger than " + std::to_string(limit) + " bytes");
  return text;
}

SendmailTlsSettings read_sendmail_cf(const std::string& path) {
  return parse_sendmail_cf(read_bounded_file(path, kMaxCfBytes, "sendmail.cf"), path);
}

}  // namespace mxtls
