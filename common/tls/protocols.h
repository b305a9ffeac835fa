// TLS protocol versions as a set, and the parser for Postfix's protocol
// syntax (smtp_tls_protocols): ">=TLSv1.2", "<=TLSv1.3", "!SSLv3, !TLSv1",
// "TLSv1.2 TLSv1.3". Pure; SSLv2/SSLv3 are accepted and ignored since
// OpenSSL 3 cannot speak them anyway.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace mxtls {

enum class TlsVersion { tls1_0, tls1_1, tls1_2, tls1_3 };
inline constexpr std::array kTlsVersions{TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3};

std::string_view version_name(TlsVersion v);             // "TLSv1", "TLSv1.1", ... (OpenSSL's names)
std::optional<TlsVersion> version_from_name(std::string_view name);
int openssl_version_constant(TlsVersion v);              // TLS1_VERSION, ...

struct VersionSet {
  unsigned bits = 0;
  bool has(TlsVersion v) const { return bits & (1u << static_cast<unsigned>(v)); }
  void add(TlsVersion v) { bits |= 1u << static_cast<unsigned>(v); }
  bool empty() const { return bits == 0; }
  VersionSet intersect(VersionSet o) const { return {bits & o.bits}; }
  std::string to_string() const;  // "TLSv1.2,TLSv1.3" or "none"
  friend bool operator==(VersionSet, VersionSet) = default;
};

inline constexpr VersionSet kAllVersions{0xF};

struct ProtocolParse {
  std::optional<VersionSet> versions;
  std::string error;  // names the bad token
};

ProtocolParse parse_protocols(std::string_view spec);

}  // namespace mxtls
