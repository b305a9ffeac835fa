#include "tls/offline_checks.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <memory>

namespace mxtls {
namespace {

// OpenSSL's minimum security bits per level (ssl_get_security_level_bits),
// as key sizes (SP 800-57): RSA/DH and EC.
constexpr std::array<int, 6> kRsaDhBits{1024, 1024, 2048, 3072, 7680, 15360};
constexpr std::array<int, 6> kEcBits{0, 160, 224, 256, 384, 512};

int clamp_level(int level) { return level < 0 ? 0 : level > 5 ? 5 : level; }

using OfflineCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using OfflineSsl = std::unique_ptr<SSL, decltype(&SSL_free)>;

// The highest and lowest version of a set, as OpenSSL's constants (0: none).
std::pair<int, int> version_bounds(VersionSet versions) {
  int lo = 0, hi = 0;
  for (auto v : kTlsVersions) {
    if (!versions.has(v)) continue;
    if (!lo) lo = openssl_version_constant(v);
    hi = openssl_version_constant(v);
  }
  return {lo, hi};
}

int record_offline_issue(int preverified, X509_STORE_CTX* ctx) {
  if (!preverified) {
    auto* out = static_cast<std::vector<VerifyIssue>*>(X509_STORE_CTX_get_app_data(ctx));
    const int code = X509_STORE_CTX_get_error(ctx);
    const int depth = X509_STORE_CTX_get_error_depth(ctx);
    bool seen = false;
    for (const auto& i : *out) seen = seen || (i.code == code && i.depth == depth);
    if (!seen && out->size() < 20) out->push_back({depth, code, X509_verify_cert_error_string(code)});
  }
  return 1;
}

X509* parse_der(const std::string& der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_X509(nullptr, &in, static_cast<long>(der.size()));
}

}  // namespace

int min_rsa_dh_bits(int security_level) { return kRsaDhBits[static_cast<std::size_t>(clamp_level(security_level))]; }
int min_ec_bits(int security_level) { return kEcBits[static_cast<std::size_t>(clamp_level(security_level))]; }

// Whether any cipher a client with the profile offers satisfies `wanted`.
template <typename Wanted>
bool offers_any(const ClientProfile& profile, Wanted&& wanted) {
  OfflineCtx ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return false;
  const auto [lo, hi] = version_bounds(profile.versions);
  const bool configured = lo && SSL_CTX_set_min_proto_version(ctx.get(), lo) == 1 &&
                          SSL_CTX_set_max_proto_version(ctx.get(), hi) == 1 &&
                          SSL_CTX_set_cipher_list(ctx.get(), profile.cipher_list.c_str()) == 1;
  ERR_clear_error();
  if (!configured) return false;
  SSL_CTX_set_security_level(ctx.get(), profile.openssl_security_level);
  OfflineSsl ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return false;
  STACK_OF(SSL_CIPHER)* offered = SSL_get1_supported_ciphers(ssl.get());
  bool found = false;
  for (int i = 0; offered && i < sk_SSL_CIPHER_num(offered) && !found; ++i) found = wanted(sk_SSL_CIPHER_value(offered, i));
  sk_SSL_CIPHER_free(offered);
  return found;
}

bool profile_offers_cipher(const ClientProfile& profile, std::string_view cipher) {
  return offers_any(profile, [cipher](const SSL_CIPHER* c) { return cipher == SSL_CIPHER_get_name(c); });
}

bool profile_offers_anonymous(const ClientProfile& profile) {
  return offers_any(profile, [](const SSL_CIPHER* c) { return SSL_CIPHER_get_auth_nid(c) == NID_auth_null; });
}

ChainVerification verify_stored_chain(const std::vector<CertificateInfo>& chain, const ClientProfile& profile, std::time_t at) {
  ChainVerification out;
  if (chain.empty()) {
    out.error = "no certificate stored";
    return out;
  }
  for (const auto& c : chain)
    if (c.der.empty()) {
      out.error = "the certificates were not stored";
      return out;
    }
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
  std::unique_ptr<X509, decltype(&X509_free)> leaf(parse_der(chain.front().der), X509_free);
  if (!store || !untrusted || !leaf) {
    out.error = "a stored certificate does not parse";
    return out;
  }
  if ((!profile.ca_file.empty() || !profile.ca_path.empty()) &&
      X509_STORE_load_locations(store.get(), profile.ca_file.empty() ? nullptr : profile.ca_file.c_str(),
                                profile.ca_path.empty() ? nullptr : profile.ca_path.c_str()) != 1) {
    ERR_clear_error();
    out.error = "cannot load trust anchors from '" + profile.ca_file + "' / '" + profile.ca_path + "'";
    return out;
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    X509* cert = parse_der(chain[i].der);
    if (!cert || !sk_X509_push(untrusted.get(), cert)) {
      X509_free(cert);
      out.error = "a stored certificate does not parse";
      return out;
    }
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    out.error = "OpenSSL cannot set up a verification";
    return out;
  }
  // What libssl sets for a client verifying a server (ssl_verify_cert_chain).
  X509_STORE_CTX_set_default(ctx.get(), "ssl_server");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_auth_level(param, profile.openssl_security_level);
  X509_VERIFY_PARAM_set_time(param, at);
  X509_STORE_CTX_set_app_data(ctx.get(), &out.issues);
  X509_STORE_CTX_set_verify_cb(ctx.get(), record_offline_issue);
  X509_verify_cert(ctx.get());
  ERR_clear_error();
  out.checked = true;
  return out;
}

}  // namespace mxtls
