// tls/handshake: the trust anchors parsed once per CA file and shared by
// every context naming them, read again once no context holds them.
#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tls/handshake.h"

namespace mxtls {
namespace {

constexpr const char* kSystemAnchors = "/etc/ssl/certs/ca-certificates.crt";

TEST(TrustStore, OneParsePerFileWhileHeld) {
  auto first = shared_trust_store(kSystemAnchors, "");
  auto second = shared_trust_store(kSystemAnchors, "");
  EXPECT_EQ(first.get(), second.get());
  EXPECT_GT(sk_X509_OBJECT_num(X509_STORE_get0_objects(first.get())), 10);
  EXPECT_NE(shared_trust_store(kSystemAnchors, "/etc/ssl/certs").get(), first.get());  // another source, another store
}

ClientProfile custom_profile() {
  TlsConfig config;
  config.profile = "custom";
  config.ca_file = kSystemAnchors;
  return build_client_profile(config);
}

TEST(TrustStore, ContextsOfOneProfileShareTheStore) {
  const ClientProfile p = custom_profile();
  TlsClientContexts a(p), b(p);
  EXPECT_EQ(SSL_CTX_get_cert_store(a.compat().native_handle()), SSL_CTX_get_cert_store(b.compat().native_handle()));
  EXPECT_EQ(SSL_CTX_get_cert_store(a.compat().native_handle()), shared_trust_store(kSystemAnchors, "").get());
}

TEST(TrustStore, UnreadableAnchorsAreAProfileError) {
  EXPECT_THROW(shared_trust_store("/nonexistent/ca.pem", ""), ProfileError);
}

TEST(TrustStore, ContextsKeepNoSessions) {
  TlsClientContexts c(custom_profile());
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(c.compat().native_handle()), SSL_SESS_CACHE_OFF);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(c.survey(TlsVersion::tls1_2).native_handle()), SSL_SESS_CACHE_OFF);
}

}  // namespace
}  // namespace mxtls
