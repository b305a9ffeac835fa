#include "tls/protocols.h"

#include <openssl/ssl.h>

namespace mxtls {
namespace {
constexpr std::array<std::string_view, 4> kNames{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
}

std::string_view version_name(TlsVersion v) { return kNames[static_cast<std::size_t>(v)]; }

std::optional<TlsVersion> version_from_name(std::string_view name) {
  for (auto v : kTlsVersions)
    if (version_name(v) == name) return v;
  if (name == "TLSv1.0") return TlsVersion::tls1_0;
  return std::nullopt;
}

int openssl_version_constant(TlsVersion v) {
  constexpr std::array<int, 4> kConstants{TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
  return kConstants[static_cast<std::size_t>(v)];
}

std::string VersionSet::to_string() const {
  std::string out;
  for (auto v : kTlsVersions)
    if (has(v)) out += (out.empty() ? "" : ",") + std::string(version_name(v));
  return out.empty() ? "none" : out;
}

ProtocolParse parse_protocols(std::string_view spec) {
  VersionSet include{}, exclude{};
  bool any_include = false;
  int min = 0, max = 3;
  std::size_t pos = 0;
  while (pos < spec.size()) {
    const auto end = spec.find_first_of(" \t,:", pos);
    const auto token = spec.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? spec.size() : end + 1;
    if (token.empty()) continue;
    std::string_view name = token;
    char op = 0;
    if (name.starts_with(">=") || name.starts_with("<=")) {
      op = name[0];
      name.remove_prefix(2);
    } else if (name.starts_with("!")) {
      op = '!';
      name.remove_prefix(1);
    }
    const bool obsolete = name == "SSLv2" || name == "SSLv3";
    const auto v = version_from_name(name);
    if (!v && !obsolete) return {std::nullopt, "unknown TLS protocol '" + std::string(token) + "'"};
    if (obsolete) {
      if (op == '>') min = 0;  // ">=SSLv3" means everything OpenSSL 3 still has
      continue;
    }
    const int idx = static_cast<int>(*v);
    switch (op) {
      case '>': min = idx; break;
      case '<': max = idx; break;
      case '!': exclude.add(*v); break;
      default: include.add(*v); any_include = true;
    }
  }
  VersionSet result{};
  for (auto v : kTlsVersions) {
    const int idx = static_cast<int>(v);
    if (idx < min || idx > max || exclude.has(v)) continue;
    if (any_include && !include.has(v)) continue;
    result.add(v);
  }
  if (result.empty()) return {std::nullopt, "protocol list '" + std::string(spec) + "' leaves no TLS version enabled"};
  return {result, ""};
}

}  // namespace mxtls
