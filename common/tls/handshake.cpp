#include "tls/handshake.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <map>
#include <mutex>

#include "util/split.h"

namespace mxtls {
namespace {

// The permissive cipher list of the survey: every cipher OpenSSL has, at
// security level 0, so the survey learns what the server can do.
constexpr const char* kSurveyCiphers = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
constexpr const char* kCertifiedCiphers = "ALL:COMPLEMENTOFALL:!aNULL:@SECLEVEL=0";

void set_version_range(SSL_CTX* ctx, VersionSet versions) {
  int lo = -1, hi = -1;
  for (auto v : kTlsVersions)
    if (versions.has(v)) {
      if (lo < 0) lo = static_cast<int>(v);
      hi = static_cast<int>(v);
    }
  SSL_CTX_set_min_proto_version(ctx, openssl_version_constant(static_cast<TlsVersion>(lo)));
  SSL_CTX_set_max_proto_version(ctx, openssl_version_constant(static_cast<TlsVersion>(hi)));
  // Holes inside the range (e.g. "!TLSv1.1") as Postfix sets them: SSL_OP_NO_*.
  constexpr std::array<uint64_t, 4> kNoOps{SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
  for (auto v : kTlsVersions)
    if (!versions.has(v)) SSL_CTX_set_options(ctx, kNoOps[static_cast<std::size_t>(v)]);
}

// OpenSSL refuses DH groups under 1024 bits even at security level 0
// (ssl_security_default_callback): the survey takes them, to measure them.
int allow_everything(const SSL*, const SSL_CTX*, int, int, int, void*, void*) { return 1; }

// Every handshake of a probe is a fresh look at the server: no session is
// kept for resumption (OpenSSL's client default; said here, not assumed).
void keep_no_sessions(SSL_CTX* c) { SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF); }

void make_permissive(asio::ssl::context& ctx, VersionSet versions) {
  SSL_CTX* c = ctx.native_handle();
  keep_no_sessions(c);
  SSL_CTX_set_security_callback(c, allow_everything);
  set_version_range(c, versions);
  SSL_CTX_set_cipher_list(c, kSurveyCiphers);
  SSL_CTX_set_security_level(c, 0);
  SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
}

// What the peer sent that the result keeps: its first alert, and whether it
// asked for our certificate.
void record_peer_messages(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* arg) {
  if (write_p || len < 1) return;
  auto* result = static_cast<HandshakeResult*>(arg);
  const auto* bytes = static_cast<const unsigned char*>(buf);
  if (content_type == SSL3_RT_ALERT && len >= 2 && result->alert_received < 0) result->alert_received = bytes[1];
  if (content_type == SSL3_RT_HANDSHAKE && bytes[0] == SSL3_MT_CERTIFICATE_REQUEST) result->client_cert_requested = true;
}

// The server's ephemeral finite-field DH group size, 0 for any other key exchange.
int peer_dh_bits(SSL* ssl) {
  EVP_PKEY* key = nullptr;
  if (SSL_get_peer_tmp_key(ssl, &key) != 1 || !key) return 0;
  const int bits = EVP_PKEY_get_base_id(key) == EVP_PKEY_DH ? EVP_PKEY_get_bits(key) : 0;
  EVP_PKEY_free(key);
  return bits;
}

std::string digest_name(int nid) {
  switch (nid) {
    case NID_sha1: return "SHA1";
    case NID_md5: return "MD5";
    case NID_md5_sha1: return "MD5-SHA1";
    case NID_sha224: return "SHA224";
    case NID_sha256: return "SHA256";
    case NID_sha384: return "SHA384";
    case NID_sha512: return "SHA512";
    case NID_undef: return "";
    default: return OBJ_nid2sn(nid);
  }
}

// The groups Postfix's tls_auto_eecdh_curves leaves: each name OpenSSL
// takes on its own, in order; none of them: OpenSSL's defaults.
void set_groups(SSL_CTX* c, const std::string& names) {
  std::string usable;
  SSL_CTX* probe = SSL_CTX_new(TLS_client_method());
  if (!probe) throw ProfileError("OpenSSL cannot allocate a context");
  for (const auto& name : split_list(names, " ,:\t"))
    if (SSL_CTX_set1_groups_list(probe, name.c_str()) == 1) usable += (usable.empty() ? "" : ":") + name;
  SSL_CTX_free(probe);
  ERR_clear_error();
  if (!usable.empty() && SSL_CTX_set1_groups_list(c, usable.c_str()) != 1)
    throw ProfileError("groups '" + usable + "' rejected by OpenSSL");
}

void make_compat(asio::ssl::context& ctx, const ClientProfile& profile, X509_STORE* trust) {
  SSL_CTX* c = ctx.native_handle();
  keep_no_sessions(c);
  set_version_range(c, profile.versions);
  if (SSL_CTX_set_cipher_list(c, profile.cipher_list.c_str()) != 1)
    throw ProfileError("cipher list '" + profile.cipher_list + "' selects no cipher");
  SSL_CTX_set_security_level(c, profile.openssl_security_level);
  if (!profile.groups.empty()) set_groups(c, profile.groups);
  if (trust) SSL_CTX_set1_cert_store(c, trust);
  // A prerequisite of DANE on any connection of this context, not a
  // commitment to it (Postfix does the same in tls_client_init); the
  // default digests are Postfix's too: 1 = SHA2-256, 2 = SHA2-512.
  if (SSL_CTX_dane_enable(c) <= 0) throw ProfileError("OpenSSL DANE initialization failed");
}

// SSL_dane_enable and the records, as tls_auth_enable/tls_dane_enable do.
int enable_dane(SSL* ssl, const DaneSetup& dane) {
  if (SSL_dane_enable(ssl, dane.base_domain.c_str()) <= 0) return -1;
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);  // RFC 7672 3.1.1
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int usable = 0;
  for (const auto& r : dane.records) {
    const int rc = SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.mtype, reinterpret_cast<const unsigned char*>(r.data.data()),
                                     r.data.size());
    if (rc > 0) ++usable;
    else if (rc < 0) return -1;
  }
  ERR_clear_error();  // unusable records leave errors behind: not this handshake's
  return usable;
}

void record_dane_outcome(SSL* ssl, const DaneSetup& dane, HandshakeResult& result) {
  auto& out = result.dane;
  out.verify_result = SSL_get_verify_result(ssl);
  X509* mcert = nullptr;
  EVP_PKEY* mspki = nullptr;
  out.matched_depth = SSL_get0_dane_authority(ssl, &mcert, &mspki);
  if (out.matched_depth >= 0) {
    if (mcert) {
      const auto info = inspect_certificate(mcert);
      out.matched_subject = info.subject;
      out.matched_not_after = info.not_after;
    }
    uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    size_t dlen = 0;
    if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen) >= 0 && data) {
      const std::string matched(reinterpret_cast<const char*>(data), dlen);
      for (std::size_t i = 0; i < dane.records.size(); ++i) {
        const auto& r = dane.records[i];
        if (r.usage == usage && r.selector == selector && r.mtype == mtype && r.data == matched) {
          out.matched_record = static_cast<int>(i);
          break;
        }
      }
    }
  }
  std::vector<X509*> chain;
  if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(sent) && i < 10; ++i) chain.push_back(sk_X509_value(sent, i));
  for (const auto& r : dane.records) out.record_depths.push_back(tlsa_match_depth(r, chain));
}

// TLSv1.3 ends the client's handshake before the server has judged the
// client's certificate (ours: none): a server that demands one answers our
// Finished with an alert, which Postfix meets at its first read after the
// handshake. Only where that can happen: wait briefly for it.
constexpr std::chrono::milliseconds kClientAuthVerdictWait{1000};

// True when the server refused us; the result then says why.
asio::awaitable<bool> refused_after_handshake(TlsStream& stream, Watchdog& watchdog, std::chrono::milliseconds budget,
                                              HandshakeResult& result) {
  char byte = 0;
  boost::system::error_code ec;
  watchdog.arm(std::min(budget, kClientAuthVerdictWait));
  co_await stream.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
  watchdog.disarm();
  if (!ec || watchdog.fired() || result.alert_received < 0) co_return false;  // no alert: the server took us
  if (ec.category() == asio::error::get_ssl_category())
    result.ssl_reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  const char* text = ec.category() == asio::error::get_ssl_category()
                         ? ERR_reason_error_string(static_cast<unsigned long>(ec.value()))
                         : nullptr;
  result.error = std::string("the server ended the session after the handshake: ") + (text ? text : ec.message());
  result.refused_after_handshake = true;
  co_return true;
}

}  // namespace

std::shared_ptr<X509_STORE> shared_trust_store(const std::string& ca_file, const std::string& ca_path) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::weak_ptr<X509_STORE>> loaded;
  const std::lock_guard lock(mutex);
  auto& slot = loaded[{ca_file, ca_path}];
  if (auto store = slot.lock()) return store;
  std::erase_if(loaded, [](const auto& kv) { return kv.second.expired(); });  // anchors no context holds any more
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (!store || (!ca_file.empty() && X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) ||
      (!ca_path.empty() && X509_STORE_load_path(store.get(), ca_path.c_str()) != 1)) {
    ERR_clear_error();
    throw ProfileError("cannot load trust anchors from '" + ca_file + "' / '" + ca_path + "'");
  }
  loaded[{ca_file, ca_path}] = store;
  return store;
}

TlsClientContexts::TlsClientContexts(const ClientProfile& profile)
    : compat_(asio::ssl::context::tls_client), certified_(asio::ssl::context::tls_client), any_(asio::ssl::context::tls_client) {
  // The levels DANE lowers a host to keep the profile's anchors (effective_profile).
  if (!profile.ca_file.empty() || !profile.ca_path.empty()) trust_ = shared_trust_store(profile.ca_file, profile.ca_path);
  make_compat(compat_, profile, trust_.get());
  if (level_is_dane(profile.level)) {
    compat_may_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    make_compat(*compat_may_, effective_profile(profile, SecurityLevel::may), trust_.get());
    compat_encrypt_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    make_compat(*compat_encrypt_, effective_profile(profile, SecurityLevel::encrypt), trust_.get());
  }
  for (auto v : kTlsVersions) {
    auto& ctx = survey_[static_cast<std::size_t>(v)] = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    VersionSet one{};
    one.add(v);
    make_permissive(*ctx, one);
  }
  make_permissive(certified_, kAllVersions);
  SSL_CTX_set_cipher_list(certified_.native_handle(), kCertifiedCiphers);
  make_permissive(any_, kAllVersions);
}

asio::ssl::context& TlsClientContexts::compat(SecurityLevel effective) {
  if (effective == SecurityLevel::may && compat_may_) return *compat_may_;
  if (effective == SecurityLevel::encrypt && compat_encrypt_) return *compat_encrypt_;
  return compat_;
}

asio::awaitable<HandshakeResult> run_handshake(TlsStream& stream, Watchdog& watchdog, std::chrono::milliseconds budget,
                                               const std::string& sni, const DaneSetup* dane) {
  HandshakeResult result;
  result.attempted = true;
  SSL* ssl = stream.native_handle();
  if (dane) {
    result.dane.enabled = true;
    result.dane.usable = enable_dane(ssl, *dane);
    if (result.dane.usable < 0) {
      result.error = "cannot enable DANE on the connection (OpenSSL)";
      ERR_clear_error();
      co_return result;
    }
  }
  if (!sni.empty()) {
    SSL_set_tlsext_host_name(ssl, sni.c_str());
    result.sni_sent = true;
  }
  SSL_set_msg_callback(ssl, record_peer_messages);
  SSL_set_msg_callback_arg(ssl, &result);
  // Record every verify problem, continue the handshake: whether it matters
  // depends on the security level, which the classifier applies.
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback([&result](bool preverified, asio::ssl::verify_context& vctx) {
    if (!preverified) {
      X509_STORE_CTX* store = vctx.native_handle();
      const int code = X509_STORE_CTX_get_error(store);
      const int depth = X509_STORE_CTX_get_error_depth(store);
      bool seen = false;
      for (const auto& i : result.verify_issues) seen = seen || (i.code == code && i.depth == depth);
      if (!seen && result.verify_issues.size() < 20)
        result.verify_issues.push_back({depth, code, X509_verify_cert_error_string(code)});
    }
    return true;
  });

  boost::system::error_code ec;
  watchdog.arm(budget);
  co_await stream.async_handshake(TlsStream::client, asio::redirect_error(asio::use_awaitable, ec));
  watchdog.disarm();
  bool refused = false;
  if (!ec && result.client_cert_requested && SSL_version(ssl) == TLS1_3_VERSION)
    refused = co_await refused_after_handshake(stream, watchdog, budget, result);
  SSL_set_msg_callback(ssl, nullptr);
  if (refused) co_return result;

  if (ec) {
    result.timed_out = watchdog.fired();
    if (result.timed_out) {
      result.error = "timed out during the TLS handshake";
    } else if (ec.category() == asio::error::get_ssl_category()) {
      result.ssl_reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
      const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
      result.error = text ? text : ec.message();
    } else if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof) {
      result.error = "connection closed by the server during the TLS handshake";
    } else {
      result.error = ec.message();
    }
    co_return result;
  }

  result.ok = true;
  result.version = SSL_get_version(ssl);
  result.cipher = SSL_get_cipher_name(ssl);
  result.cipher_bits = SSL_get_cipher_bits(ssl, nullptr);
  int nid = NID_undef;
  if (SSL_version(ssl) >= TLS1_2_VERSION && SSL_get_peer_signature_nid(ssl, &nid) == 1)
    result.peer_signature_digest = digest_name(nid);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(chain) && i < 10; ++i) result.chain.push_back(inspect_certificate(sk_X509_value(chain, i)));
  if (X509* leaf = SSL_get1_peer_certificate(ssl)) result.leaf.reset(leaf, X509_free);
  result.dh_bits = peer_dh_bits(ssl);
  if (dane) record_dane_outcome(ssl, *dane, result);
  co_return result;
}

}  // namespace mxtls
