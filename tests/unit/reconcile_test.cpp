// report/reconcile: what the MTA did beside what mxtls predicted.
#include <gtest/gtest.h>

#include <algorithm>

#include "report/reconcile.h"

namespace mxtls {
namespace {

MtaDelivery delivery(const std::string& domain, const std::string& status, std::optional<Reason> reason,
                     MtaTls tls = MtaTls::none) {
  MtaDelivery d;
  d.queue_id = "1A2B3C";
  d.domain = domain;
  d.status = status;
  d.reason = reason;
  d.tls = tls;
  return d;
}

std::vector<DestinationOutcomes> reconcile(const std::vector<MtaDelivery>& deliveries,
                                           const std::vector<StoredVerdict>& verdicts) {
  const std::vector<StoredVerdict> no_history;
  OutcomeTally tally(verdicts, no_history);
  for (const auto& d : deliveries) tally.add(d);
  return tally.result();
}

StoredVerdict verdict(const std::string& domain, Reason r, Severity s, Outcome o) {
  StoredVerdict v;
  v.domain = domain;
  v.reason = r;
  v.severity = s;
  v.outcome = o;
  return v;
}

TEST(Reconcile, ADeferralWePredictedOkIsListedFirstAsADisagreement) {
  const auto list = reconcile(
      {delivery("fine.example", "deferred", Reason::protocol_version),
       delivery("wrong.example", "deferred", Reason::protocol_version),
       delivery("wrong.example", "sent", std::nullopt, MtaTls::verified)},
      {verdict("fine.example", Reason::protocol_version, Severity::incompatible, Outcome::deferred),
       verdict("wrong.example", Reason::ok, Severity::ok, Outcome::tls)});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].domain, "wrong.example");
  EXPECT_EQ(list[0].disagreements, 1u);
  EXPECT_EQ(list[0].deferred, 1u);
  EXPECT_EQ(list[0].sent_verified, 1u);
  EXPECT_EQ(list[0].first_disagreement, "mxtls predicted tls (ok); the MTA deferred it (protocol_version)");
  EXPECT_EQ(list[1].disagreements, 0u);
}

TEST(Reconcile, EachDeliveryIsJudgedByTheVerdictInForceWhenItWasLogged) {
  // The destination was broken until 2000, fixed at 2000; the current verdict says ok.
  auto broken = verdict("fixed.example", Reason::protocol_version, Severity::incompatible, Outcome::deferred);
  broken.probed_at = 1000;
  auto fixed = verdict("fixed.example", Reason::ok, Severity::ok, Outcome::tls);
  fixed.probed_at = 2000;
  auto before = delivery("fixed.example", "deferred", Reason::protocol_version);
  before.at = 1500;  // deferred while our verdict said so: agrees
  auto after = delivery("fixed.example", "sent", std::nullopt, MtaTls::verified);
  after.at = 2500;
  auto untimed = delivery("fixed.example", "deferred", Reason::protocol_version);  // judged by the current verdict
  auto early = delivery("fixed.example", "deferred", Reason::protocol_version);
  early.at = 500;  // before any probe in the history: the current verdict too
  const std::vector<StoredVerdict> current{fixed}, history{broken, fixed};  // the tally points into them
  OutcomeTally tally(current, history);
  for (const auto& d : {before, after}) tally.add(d);
  EXPECT_EQ(tally.result()[0].disagreements, 0u);
  tally.add(untimed);
  tally.add(early);
  EXPECT_EQ(tally.result()[0].disagreements, 2u);
}

TEST(Reconcile, NamesTheMtaUsesForOurReasonsAgree) {
  const auto list = reconcile({delivery("sni.example", "deferred", Reason::cert_host_mismatch),
                               delivery("plain.example", "sent", std::nullopt),
                               delivery("gone.example", "deferred", Reason::connect_failed),
                               delivery("new.example", "deferred", Reason::cert_expired)},
                              {verdict("sni.example", Reason::sni_dependent, Severity::incompatible, Outcome::deferred),
                               verdict("plain.example", Reason::starttls_not_offered, Severity::warning, Outcome::plaintext),
                               verdict("gone.example", Reason::timeout, Severity::unreachable, Outcome::deferred)});
  for (const auto& o : list) EXPECT_EQ(o.disagreements, 0u) << o.domain << ": " << o.first_disagreement;
  const auto fresh = std::find_if(list.begin(), list.end(), [](const auto& o) { return o.domain == "new.example"; });
  ASSERT_NE(fresh, list.end());
  EXPECT_FALSE(fresh->predicted);  // no verdict: nothing to compare
  EXPECT_EQ(fresh->mta_reason, Reason::cert_expired);
}

}  // namespace
}  // namespace mxtls
