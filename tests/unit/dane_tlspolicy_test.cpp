// policy/engine/dane_tlspolicy: the tlspolicy socketmap's DANE answer
// (postfix-tlspol's rules) and its TLSRPT attributes, from probe facts.
#include <gtest/gtest.h>

#include "engine/dane_tlspolicy.h"

namespace mxtls {
namespace {

MxProbe dane_host(const std::string& name, std::vector<dns::TlsaRecord> records) {
  MxProbe mx;
  mx.host = name;
  mx.dane.validating = true;
  mx.dane.mx_present = true;
  mx.dane.mx_security = dns::Security::secure;
  mx.dane.address_security = dns::Security::secure;
  mx.dane.tlsa = records.empty() ? TlsaLookup::not_found : TlsaLookup::found;
  mx.dane.records_total = records.size();
  mx.dane.records = std::move(records);
  return mx;
}

const dns::TlsaRecord kEe{3, 1, 1, std::string(32, '\x11')};
const dns::TlsaRecord kPkix{1, 1, 1, std::string(32, '\x22')};

DestinationProbe domain(std::vector<MxProbe> hosts) {
  DestinationProbe d;
  d.domain = "example.org";
  d.mx_present = true;
  d.mx_security = dns::Security::secure;
  d.hosts = std::move(hosts);
  return d;
}

TEST(DaneTlspolicy, AllHostsWithUsableTlsaAreDaneOnly) {
  const auto p = dane_tlspolicy(domain({dane_host("mx1.example.org", {kEe}), dane_host("mx2.example.org", {kEe, kPkix})}));
  EXPECT_EQ(p.kind, DaneTlspolicy::Kind::dane_only);
  EXPECT_EQ(format_dane_tlspolicy(p, false), "dane-only");
  const std::string ee = "3 1 1 " + std::string(64, '1');
  std::string h22;
  for (int i = 0; i < 32; ++i) h22 += "22";
  EXPECT_EQ(format_dane_tlspolicy(p, true), "dane-only policy_type=tlsa policy_domain=example.org { policy_string = " + ee +
                                                " } { policy_string = " + ee + " } { policy_string = 1 1 1 " + h22 +
                                                " } mx_host_pattern=mx1.example.org mx_host_pattern=mx2.example.org");
}

// A host's further addresses (probe entries of their own) share its TLSA
// facts: the answer names each host and record once.
TEST(DaneTlspolicy, FurtherAddressesOfAHostCountOnce) {
  auto v6 = dane_host("mx1.example.org", {kEe});
  auto v4 = v6;
  v4.alternate = true;
  const auto p = dane_tlspolicy(domain({v6, v4}));
  EXPECT_EQ(p.why, "1 of 1 MX host(s) with usable secure TLSA");
  EXPECT_EQ(format_dane_tlspolicy(p, true), "dane-only policy_type=tlsa policy_domain=example.org { policy_string = 3 1 1 " +
                                                std::string(64, '1') + " } mx_host_pattern=mx1.example.org");
}

TEST(DaneTlspolicy, SomeHostsOrUnusableRecordsAreDane) {
  EXPECT_EQ(dane_tlspolicy(domain({dane_host("mx1.example.org", {kEe}), dane_host("mx2.example.org", {})})).kind,
            DaneTlspolicy::Kind::dane);
  const auto unusable = dane_tlspolicy(domain({dane_host("mx1.example.org", {kPkix})}));
  EXPECT_EQ(format_dane_tlspolicy(unusable, false), "dane");
}

TEST(DaneTlspolicy, NoSecureMxOrNoTlsaIsNoPolicy) {
  auto d = domain({dane_host("mx1.example.org", {kEe})});
  d.mx_security = dns::Security::insecure;
  EXPECT_EQ(dane_tlspolicy(d).kind, DaneTlspolicy::Kind::none);
  EXPECT_EQ(format_dane_tlspolicy(dane_tlspolicy(d), true), "");
  EXPECT_EQ(dane_tlspolicy(domain({dane_host("mx1.example.org", {})})).kind, DaneTlspolicy::Kind::none);
  auto insecure_host = dane_host("mx1.example.org", {kEe});
  insecure_host.dane.address_security = dns::Security::insecure;
  EXPECT_EQ(dane_tlspolicy(domain({insecure_host})).kind, DaneTlspolicy::Kind::none);
  DestinationProbe literal;
  literal.domain = "[mx.example.org]";
  literal.hosts = {dane_host("mx.example.org", {kEe})};
  EXPECT_EQ(dane_tlspolicy(literal).kind, DaneTlspolicy::Kind::none);
}

TEST(DaneTlspolicy, DnsFailuresAreTemporary) {
  auto failed = dane_host("mx1.example.org", {});
  failed.dane.tlsa = TlsaLookup::bogus;
  EXPECT_EQ(dane_tlspolicy(domain({dane_host("mx0.example.org", {kEe}), failed})).kind, DaneTlspolicy::Kind::temporary);
  DestinationProbe bogus;
  bogus.domain = "example.org";
  bogus.dns_failure = Reason::dnssec_bogus;
  EXPECT_EQ(dane_tlspolicy(bogus).kind, DaneTlspolicy::Kind::temporary);
  EXPECT_EQ(format_dane_tlspolicy(dane_tlspolicy(bogus), false), "");
}

TEST(DaneTlspolicy, PolicyStringsAreBounded) {
  std::vector<dns::TlsaRecord> many(1000, kEe);
  const auto p = dane_tlspolicy(domain({dane_host("mx1.example.org", many)}));
  const auto strings = std::count_if(p.tlsrpt.begin(), p.tlsrpt.end(), [](const auto& a) { return a.first == "policy_string"; });
  EXPECT_EQ(strings, static_cast<long>(kMaxTlsrptPolicyStrings));
  EXPECT_LT(format_dane_tlspolicy(p, true).size(), kMaxTlsrptPolicyBytes + 1000);
}

}  // namespace
}  // namespace mxtls
