// What the MTA did for each destination (report/mta_log deliveries) beside
// what mxtls predicted for it (the stored verdict): messages deferred,
// bounced and sent (plaintext, untrusted, trusted, verified), the MTA's own
// reason, and whether our prediction agreed. Disagreements come first: they
// are how we find our own mistakes in production. Pure.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/mta_log.h"
#include "store/store.h"

namespace mxtls {

struct DestinationOutcomes {
  std::string domain;
  std::size_t deferred = 0, bounced = 0;
  std::size_t sent_plaintext = 0, sent_untrusted = 0, sent_trusted = 0, sent_verified = 0;
  std::optional<Reason> mta_reason;        // of the newest delivery that had a problem
  std::string evidence;                    // the MTA's words for it
  std::optional<StoredVerdict> predicted;  // our verdict for the destination, if any
  std::size_t disagreements = 0;           // deliveries our prediction did not foresee
  std::string first_disagreement;          // "mxtls predicted tls (ok); the MTA deferred (protocol_version)"
};

// Whether verdict `v` foresaw delivery `d`; when not, why in one line
// ("mxtls predicted tls (ok); the MTA deferred it (protocol_version)").
// Uses v's outcome, reason and severity only.
std::optional<std::string> prediction_disagreement(const MtaDelivery& d, const StoredVerdict& v);

// Counts deliveries as a log is read, in memory bounded by the number of
// destinations (at most kMaxTalliedDomains; deliveries to more are counted
// in `untallied`). Each delivery is judged against the verdict in force
// when it was logged: the newest probe of `history` (oldest first) at or
// before the line's time; without one (no time on the line, or no probe
// that early in the history read), the current verdict.
class OutcomeTally {
 public:
  static constexpr std::size_t kMaxTalliedDomains = 100000;
  // Points into `verdicts` and `history`: they must outlive the tally.
  OutcomeTally(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& history);
  void add(const MtaDelivery& d);
  // Disagreements first, then the most deferred.
  std::vector<DestinationOutcomes> result() const;
  std::size_t deliveries() const { return deliveries_; }
  std::size_t untallied() const { return untallied_; }

 private:
  const StoredVerdict* in_force(const MtaDelivery& d, const StoredVerdict* current) const;
  std::map<std::string, const StoredVerdict*, std::less<>> verdicts_;
  std::map<std::string, std::vector<const StoredVerdict*>, std::less<>> history_;  // oldest first
  std::map<std::string, DestinationOutcomes, std::less<>> outcomes_;
  std::size_t deliveries_ = 0, untallied_ = 0;
};

}  // namespace mxtls
