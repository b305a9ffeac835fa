// report/mta_log: Postfix's own TLS lines joined to the status line and
// classified. The lines are copied from the lab's real Postfix 3.7 log
// (tests/integration/postfix_ground_truth_test.py produces them; the
// integration test classifies them there too).
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <vector>

#include "report/log_time.h"
#include "report/mta_log.h"

namespace mxtls {
namespace {

std::vector<MtaDelivery> read_all(const std::vector<std::string>& lines) {
  MtaLogReader reader;
  std::vector<MtaDelivery> out;
  for (const auto& l : lines)
    if (auto d = reader.read(l)) out.push_back(*d);
  return out;
}

const std::string kPrefix = "2026-11-29T23:01:02.123456+00:00 lab postfix/smtp[20841]: ";

TEST(MtaLog, AHandshakeFailureTakesTheReasonOfTheLibraryProblemBeforeIt) {
  const auto d = read_all({
      kPrefix + "warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version:"
                "../ssl/record/rec_layer_s3.c:1602:SSL alert number 70:",
      kPrefix + "SSL_connect error to mx.tls10.test[127.0.0.14]:25: -1",
      kPrefix + "CA6C1A72022: to=<user@tls10.test>, relay=mx.tls10.test[127.0.0.14]:25, delay=4.4, "
                "delays=4.4/0/0.01/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
  });
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].queue_id, "CA6C1A72022");
  EXPECT_EQ(d[0].domain, "tls10.test");
  EXPECT_EQ(d[0].status, "deferred");
  EXPECT_EQ(d[0].reason, Reason::protocol_version);
}

TEST(MtaLog, DaneFailures) {
  const std::string p = "Nov 30 02:45:38 mta postfix/smtp[5410]: ";
  const auto d = read_all({
      p + "server certificate verification failed for mx.danestale.dnssec.test[127.0.0.32]:25: num=65:no matching DANE TLSA records",
      p + "Untrusted TLS connection established to mx.danestale.dnssec.test[127.0.0.32]:25: TLSv1.3 with cipher X",
      p + "C5C50A82293: to=<user@danestale.dnssec.test>, relay=mx.danestale.dnssec.test[127.0.0.32]:25, delay=0.05, "
          "delays=0.01/0.03/0.01/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
      p + "warning: mx.daneunusable.dnssec.test[127.0.0.34]:25: all TLSA records unusable",
      p + "server certificate verification failed for mx.daneunusable.dnssec.test[127.0.0.34]:25: num=1:unspecified certificate verification error",
      p + "Untrusted TLS connection established to mx.daneunusable.dnssec.test[127.0.0.34]:25: TLSv1.3 with cipher X",
      p + "E142AA822F2: to=<user@daneunusable.dnssec.test>, relay=mx.daneunusable.dnssec.test[127.0.0.34]:25, delay=1.6, "
          "delays=1.5/0.02/0.09/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
      p + "D1: to=<user@daneunsigned.test>, relay=none, delay=1, delays=1/0/0/0, dsn=4.7.5, status=deferred (non DNSSEC destination)",
      p + "D2: to=<user@danebogus.dnssec.test>, relay=mx.danebogus.dnssec.test[127.0.0.33]:25, delay=1, delays=1/0/0/0, "
          "dsn=4.7.5, status=deferred (TLSA lookup error for mx.danebogus.dnssec.test:25)",
  });
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].reason, Reason::tlsa_mismatch);
  EXPECT_EQ(d[1].reason, Reason::tlsa_unusable);
  EXPECT_EQ(d[2].reason, Reason::dane_required);
  EXPECT_EQ(d[3].reason, Reason::dns_failure);
}

TEST(MtaLog, TheLibraryProblemMayAlsoFollowTheSslConnectError) {
  const std::string p = "Nov 29 23:11:31 mta postfix/smtp[20841]: ";
  const auto d = read_all({
      p + "SSL_connect error to mx.nocipher.test[127.0.0.17]:25: -1",
      p + "warning: TLS library problem: error:0A000410:SSL routines::sslv3 alert handshake failure:"
          "../ssl/record/rec_layer_s3.c:1602:SSL alert number 40:",
      p + "CA6C1A72022: to=<user@nocipher.test>, relay=mx.nocipher.test[127.0.0.17]:25, delay=4.4, "
          "delays=4.4/0/0.01/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
  });
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, Reason::no_shared_cipher);
}

TEST(MtaLog, CertificateFailuresStartTlsAndTransportTexts) {
  const auto d = read_all({
      kPrefix + "server certificate verification failed for mx.expired.test[127.0.0.20]:25: certificate has expired",
      kPrefix + "9A8B6A724FC: to=<user@expired.test>, relay=mx.expired.test[127.0.0.20]:25, delay=4.3, "
                "delays=4.2/0.02/0.02/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
      kPrefix + "A961FA72036: to=<user@nostarttls.test>, relay=mx.nostarttls.test[127.0.0.12]:25, delay=4.5, "
                "delays=4.5/0/0/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host "
                "mx.nostarttls.test[127.0.0.12])",
      kPrefix + "AF792A72055: to=<user@starttls454.test>, relay=mx.starttls454.test[127.0.0.13]:25, delay=0.07, "
                "delays=0.01/0.06/0/0, dsn=4.7.0, status=deferred (TLS is required, but host "
                "mx.starttls454.test[127.0.0.13] refused to start TLS: 454 4.7.0 TLS not available)",
      kPrefix + "SSL_connect error to mx.stall.test[127.0.0.28]:25: Connection timed out",
      kPrefix + "0CB11A72075: to=<user@stall.test>, relay=mx.stall.test[127.0.0.28]:25, delay=8.1, "
                "delays=4.1/0/4/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
  });
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].reason, Reason::cert_expired);
  EXPECT_EQ(d[1].reason, Reason::starttls_not_offered);
  EXPECT_EQ(d[2].reason, Reason::starttls_refused);
  EXPECT_EQ(d[3].reason, Reason::timeout);
}

TEST(MtaLog, SentMailCarriesHowItsSessionWasProtected) {
  const auto d = read_all({
      kPrefix + "Untrusted TLS connection established to mx.expired.test[127.0.0.20]:25: TLSv1.3 with cipher "
                "TLS_AES_256_GCM_SHA384 (256/256 bits)",
      kPrefix + "1A2B3C4D5E: to=<user@expired.test>, relay=mx.expired.test[127.0.0.20]:25, delay=0.1, "
                "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)",
      kPrefix + "2A2B3C4D5E: to=<user@nostarttls.test>, relay=mx.nostarttls.test[127.0.0.12]:25, delay=0.1, "
                "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)",
  });
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].tls, MtaTls::untrusted);
  EXPECT_EQ(d[1].tls, MtaTls::none);  // the session lines were about another relay
}

TEST(MtaLog, TextTheServerChoseCannotPickTheReason) {
  const auto d = read_all({
      kPrefix + "certificate verification failed for mx.a.test[127.0.0.23]:25: untrusted issuer /CN=certificate has expired",
      kPrefix + "3A2B3C4D5E: to=<user@a.test>, relay=mx.a.test[127.0.0.23]:25, delay=0.1, delays=0/0/0/0.1, "
                "dsn=4.7.5, status=deferred (Server certificate not trusted)",
      kPrefix + "4A2B3C4D5E: to=<user@b.test>, relay=mx.b.test[127.0.0.24]:25, delay=0.1, delays=0/0/0/0.1, "
                "dsn=4.7.1, status=deferred (host mx.b.test[127.0.0.24] said: 450 TLS is required, but was not offered "
                "(in reply to RCPT TO command))",
  });
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].reason, Reason::cert_untrusted_chain);
  EXPECT_FALSE(d[1].reason);
}

// Postfix 3.10+/3.11+ lines cannot come from the lab (Debian 12 has Postfix
// 3.7): these are built from Postfix's documented formats, the TLSRPT line
// from tlsrpt_wrapper.c's msg_info, the tls= field from the 3.11 delivery
// status logging (smtp_log_tls_feature_status).
TEST(MtaLog, Postfix310TlsrptLinesAndTheTlsField) {
  const std::string p = "Nov 30 05:00:00 mta postfix/smtp[700]: ";
  const auto d = read_all({
      p + "TLSRPT: status=failure, domain=expired.test, receiving_mx=mx.expired.test[127.0.0.20], "
          "failure_type=certificate-expired, failure_reason=certificate has expired",
      p + "1A: to=<user@expired.test>, relay=mx.expired.test[127.0.0.20]:25, delay=1, delays=1/0/0/0, tls=secure, "
          "dsn=4.7.5, status=deferred (Server certificate not verified)",
      p + "TLSRPT: status=failure, domain=nostarttls.test, receiving_mx=mx.nostarttls.test[127.0.0.12], "
          "failure_type=starttls-not-supported",
      p + "2A: to=<user@nostarttls.test>, relay=mx.nostarttls.test[127.0.0.12]:25, delay=1, delays=1/0/0/0, "
          "tls=encrypt, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.nostarttls.test[127.0.0.12])",
      p + "3A: to=<user@healthy13.test>, relay=mx.healthy13.test[127.0.0.11]:25, conn_use=2, delay=0.31, "
          "delays=0.06/0.05/0.07/0.12, tls=encrypt/(requiretls), dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)",
      p + "4A: to=<user@healthy12.test>, relay=mx.healthy12.test[127.0.0.10]:25, delay=0.3, delays=0/0/0/0.3, "
          "tls=may, dsn=2.0.0, status=sent (250 2.0.0 Ok, tls=secure)",
  });
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].reason, Reason::cert_expired);
  EXPECT_EQ(d[0].mta_level, "secure");
  EXPECT_EQ(d[1].reason, Reason::starttls_not_offered);
  EXPECT_EQ(d[2].mta_level, "encrypt/(requiretls)");
  EXPECT_EQ(d[2].tls, MtaTls::untrusted);  // encrypt, no session line: encrypted at least
  EXPECT_EQ(d[3].mta_level, "may");        // the server's reply text is not the field
  EXPECT_EQ(d[3].tls, MtaTls::none);
}

TEST(MtaLog, LibraryProblemsOfEveryKind) {
  const std::string p = "Nov 30 05:00:00 mta postfix/smtp[701]: ";
  const std::vector<std::pair<std::string, Reason>> texts{
      {"error:0A00018A:SSL routines::dh key too small:../ssl/statem/statem_clnt.c:2100:", Reason::dh_too_small},
      {"error:0A000172:SSL routines::wrong signature type:../ssl/t1_lib.c:1550:", Reason::legacy_sigalg},
      {"error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:308:", Reason::handshake_failed},
  };
  for (const auto& [text, reason] : texts) {
    const auto d = read_all({
        p + "SSL_connect error to mx.a.test[127.0.0.9]:25: -1",
        p + "warning: TLS library problem: " + text,
        p + "5A: to=<user@a.test>, relay=mx.a.test[127.0.0.9]:25, delay=1, delays=1/0/0/0, dsn=4.7.5, "
            "status=deferred (Cannot start TLS: handshake failure)",
    });
    ASSERT_EQ(d.size(), 1u) << text;
    EXPECT_EQ(d[0].reason, reason) << text;
  }
}

// Lines of the lab's real Sendmail 8.17 (tests/integration/mta_log_test.py
// makes it deliver to the lab's destinations and classifies them there too).
TEST(MtaLog, SendmailSessionsAndStatLines) {
  const std::string p = "Nov 30 06:18:27 sm-mta-lab[";
  const auto d = read_all({
      p + "1706]: STARTTLS=client, relay=mx.healthy12.test., version=TLSv1.2, verify=OK, "
          "cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
      p + "1709]: STARTTLS=client, relay=mx.expired.test., version=TLSv1.3, verify=FAIL, "
          "cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
      p + "1709]: 6AU6IQpx001704: to=<user@expired.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30032, "
          "relay=mx.expired.test. [127.0.0.20], dsn=2.0.0, stat=Sent (2.0.0 Ok: queued)",
      p + "1706]: 6AU6IQpw001704: to=<user@healthy12.test>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30034, "
          "relay=mx.healthy12.test. [127.0.0.10], dsn=2.0.0, stat=Sent (2.0.0 Ok: queued)",
      p + "1714]: 6AU6IQq0001704: to=<user@nostarttls.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30035, "
          "relay=mx.nostarttls.test. [127.0.0.12], dsn=2.0.0, stat=Sent (2.0.0 Ok: queued)",
      p + "1720]: STARTTLS=client, error: connect failed=-1, reason=legacy sigalg disallowed or unsupported, "
          "SSL_error=1, errno=0, retry=-1",
      p + "1720]: ruleset=tls_server, arg1=SOFTWARE, relay=mx.tls10.test, reject=454 4.7.0 TLS handshake failed.",
      p + "1720]: 6AU6IQq2001704: to=<user@tls10.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30030, "
          "relay=mx.tls10.test. [127.0.0.14], dsn=4.7.0, stat=Deferred: 454 4.7.0 TLS handshake failed.",
      p + "1727]: STARTTLS=client, error: connect failed=-1, reason=sslv3 alert handshake failure, SSL_error=1, "
          "errno=0, retry=-1",
      p + "1727]: ruleset=tls_server, arg1=SOFTWARE, relay=mx.nocipher.test, reject=454 4.7.0 TLS handshake failed.",
      p + "1727]: 6AU6IQq3001704: to=<user@nocipher.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30033, "
          "relay=mx.nocipher.test. [127.0.0.17], dsn=4.7.0, stat=Deferred: 454 4.7.0 TLS handshake failed.",
      p + "1730]: 6AU6IQq4001704: to=<user@refused.test>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30032, "
          "relay=mx.refused.test. [127.0.0.29], dsn=4.4.1, stat=Deferred: Connection refused by mx.refused.test.",
      p + "1740]: 6AU6IQq8001704: to=<user@tlsonplain.test>, delay=00:00:04, xdelay=00:00:04, mailer=esmtp, "
          "pri=30035, relay=mx.tlsonplain.test. [127.0.0.26], dsn=4.4.2, stat=Deferred: Connection timed out with "
          "mx.tlsonplain.test.",
      p + "1704]: 6AU6IQpw001704: from=<sender@lab.test>, size=34, class=0, nrcpts=1, "
          "msgid=<202611300618.6AU6IQpw001704@mta.lab.test>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
  });
  ASSERT_EQ(d.size(), 7u);
  EXPECT_EQ(d[0].domain, "expired.test");
  EXPECT_EQ(d[0].tls, MtaTls::untrusted);
  EXPECT_EQ(d[1].tls, MtaTls::verified);
  EXPECT_EQ(d[1].queue_id, "6AU6IQpw001704");
  EXPECT_EQ(d[2].tls, MtaTls::none);
  EXPECT_EQ(d[3].status, "deferred");
  EXPECT_EQ(d[3].reason, Reason::legacy_sigalg);
  EXPECT_EQ(d[4].reason, Reason::no_shared_cipher);
  EXPECT_EQ(d[5].reason, Reason::connect_failed);
  EXPECT_EQ(d[6].reason, Reason::timeout);
}

TEST(MtaLog, TheLinesOwnTimeIsKept) {
  // 2026-11-30T06:18:27Z
  constexpr int64_t kAt = 1796019507;
  EXPECT_EQ(log_line_time("2026-11-30T06:18:27.123456+00:00 lab postfix/smtp[1]: x", kAt), kAt);
  EXPECT_EQ(log_line_time("2026-11-30T07:18:27+01:00 lab postfix/smtp[1]: x", kAt), kAt);
  EXPECT_EQ(log_line_time("2026-11-30T06:18:27Z x", kAt), kAt);
  EXPECT_FALSE(log_line_time("2026-11-30T06:18:27 x", kAt));  // no zone: not RFC 3339
  EXPECT_FALSE(log_line_time("2026-13-30T06:18:27Z x", kAt));
  EXPECT_FALSE(log_line_time("Foo 30 06:18:27 x", kAt));
  EXPECT_FALSE(log_line_time("Nov", kAt));
  // BSD syslog: local time, the year that is not more than a day ahead of now.
  const char* tz = std::getenv("TZ");
  const std::string saved = tz ? tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(log_line_time("Nov 30 06:18:27 mta sm-mta[1]: x", kAt), kAt);
  EXPECT_EQ(log_line_time("Dec 31 23:00:00 mta sm-mta[1]: x", kAt), 1767222000);  // last year's
  if (tz) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  const auto d = read_all({"Nov 30 06:18:27 mta postfix/smtp[9]: 1A: to=<u@a.test>, relay=mx.a.test[127.0.0.1]:25, "
                           "delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (250 ok)"});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_GT(d[0].at, 0);
}

TEST(MtaLog, OtherProgramsAndForgedLinesAreSkipped) {
  const auto d = read_all({
      "2026-11-29T23:01:02 lab postfix/smtpd[1]: 1A2B3C4D5E: to=<a@b.test>, relay=x, status=deferred (Connection refused)",
      "2026-11-29T23:01:02 lab mxtls-policyd[2]: x postfix/smtp[3]: 1A2B: to=<a@b.test>, relay=x, status=sent (ok)",
      std::string(5000, 'a') + " postfix/smtp[4]: 1A2B: to=<a@b.test>, relay=x, status=sent (ok)",
  });
  EXPECT_TRUE(d.empty());
}

}  // namespace
}  // namespace mxtls
