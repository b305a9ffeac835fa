#include "tls/sendmail_profile.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cctype>

#include "tls/sendmail_access.h"
#include "tls/sendmail_settings.h"

namespace mxtls {
namespace {

// A cipher list's "@SECLEVEL=n" sets OpenSSL's security level, as
// SSL_CTX_set_cipher_list does for Sendmail; without one, the library's.
int security_level_of(const std::string& cipher_list) {
  const auto at = cipher_list.find("@SECLEVEL=");
  if (at == std::string::npos || at + 10 >= cipher_list.size() ||
      !std::isdigit(static_cast<unsigned char>(cipher_list[at + 10])))
    return openssl_default_security_level();
  return cipher_list[at + 10] - '0';
}

void check_level(std::optional<SecurityLevel> level, const std::string& profile) {
  if (level && level_is_dane(*level))
    throw ProfileError("tls.security_level: " + std::string(level_name(*level)) + " is not modelled for the " + profile +
                       " profile");
}

void fill_unauthenticated(ClientProfile& p) {
  p.may_protocols_spec = p.protocols_spec;
  p.may_versions = p.versions;
  p.may_cipher_list = p.cipher_list;
  p.unauthenticated_openssl_security_level = p.openssl_security_level;
}

}  // namespace

int openssl_default_security_level() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  const int level = ctx ? SSL_CTX_get_security_level(ctx) : 1;
  SSL_CTX_free(ctx);
  return level;
}

ClientProfile sendmail_profile(const TlsConfig& config, std::optional<SecurityLevel> level) {
  check_level(level, "sendmail");
  const SendmailTlsSettings s = read_sendmail_cf(config.sendmail_cf);
  ClientProfile p;
  p.name = "sendmail";
  p.source = s.source;
  p.level = level.value_or(SecurityLevel::may);
  p.versions = s.versions;
  p.protocols_spec = s.client_ssl_options.empty() ? "OpenSSL's" : "ClientSSLOptions=" + s.client_ssl_options;
  p.cipher_list = s.cipher_list.empty() ? "DEFAULT" : s.cipher_list;
  p.openssl_security_level = security_level_of(s.cipher_list);
  p.ca_file = s.ca_file;
  p.ca_path = s.ca_path;
  p.send_sni = false;
  p.match = {};  // Sendmail's VERIFY is the chain's verification; it checks no name
  p.on_handshake_failure = s.fallback_to_clear ? HandshakeFailure::plaintext : HandshakeFailure::deferred;
  p.bounces_on_5xx_greeting = true;
  fill_unauthenticated(p);
  // The access map: the makemap source of the map sendmail.cf names
  // (Kaccess ... /etc/mail/access reads access.db, made from /etc/mail/access).
  const std::string access = config.sendmail_access.empty() ? s.access_map : config.sendmail_access;
  struct stat st {};
  if (access.empty()) {
    p.source += ", no access map";
  } else if (stat(access.c_str(), &st) != 0 && config.sendmail_access.empty()) {
    p.source += ", access map source " + access + " missing: TLS_Srv/Try_TLS rules not known";
  } else {
    p.sendmail_access = std::make_shared<const SendmailAccess>(read_sendmail_access(access));
    p.source += ", access map " + access + " (" + std::to_string(p.sendmail_access->tls_srv.size()) + " TLS_Srv, " +
                std::to_string(p.sendmail_access->try_tls.size()) + " Try_TLS)";
  }
  return p;
}

ClientProfile openssl_profile(std::optional<SecurityLevel> level, const std::string& source) {
  check_level(level, "openssl");
  ClientProfile p;
  p.name = "openssl";
  p.source = source.empty() ? "OpenSSL's defaults" : source + ": OpenSSL's defaults";
  p.level = level.value_or(SecurityLevel::may);
  p.versions = kAllVersions;
  p.protocols_spec = "OpenSSL's";
  p.cipher_list = "DEFAULT";
  p.openssl_security_level = openssl_default_security_level();
  p.ca_file = X509_get_default_cert_file();
  p.ca_path = X509_get_default_cert_dir();
  struct stat st {};
  if (stat(p.ca_file.c_str(), &st) != 0) p.ca_file.clear();  // load_verify_locations refuses a missing file
  if (stat(p.ca_path.c_str(), &st) != 0) p.ca_path.clear();
  p.send_sni = true;
  p.match = {"hostname"};
  p.on_handshake_failure = HandshakeFailure::deferred;
  fill_unauthenticated(p);
  return p;
}

}  // namespace mxtls
