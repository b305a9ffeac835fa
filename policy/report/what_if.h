// `mxtls report --what-if`: every stored verdict's probe facts judged again
// under proposed Postfix settings (and/or another CA file) and under the
// current ones, from the same facts, without probing; the destinations
// whose mail would stop flowing (deferred, bounced), go out in plaintext,
// or flow again, with the reason and what the MTA's log says was sent
// there. What the facts cannot answer is "unknown" with the reason, never
// a guess (classify/rejudge.h). Not a probe and not a config checker: the
// settings are read as Postfix's postconf reports them, the changes applied
// on top.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "report/reconcile.h"
#include "store/store.h"
#include "tls/client_profile.h"

namespace mxtls {

struct WhatIfSettings {
  std::vector<std::pair<std::string, std::string>> changes;  // Postfix key, value, as given
  std::string ca_file;                                       // --what-if-ca
  std::string describe() const;                              // "smtp_tls_security_level=encrypt, CA file /x.pem"
};

struct WhatIfParse {
  std::optional<WhatIfSettings> settings;
  std::string error;  // names the setting
};

// "key=value key=value": the smtp_tls_* keys --what-if supports, each at
// most once; an unknown or unsupported key, a level it cannot judge (dane,
// dane-only, fingerprint) or a bad protocol list is an error naming it.
WhatIfParse parse_what_if(std::string_view text, const std::string& ca_file);

// The profile the changes give: Postfix's settings (postconf, as the
// postfix profile reads them) with the changes on top; the CA file on top
// of any profile. Throws ProfileError naming the setting.
ClientProfile proposed_profile(const TlsConfig& config, const ClientProfile& current, const WhatIfSettings& settings);

// In the order the report lists them.
enum class WhatIfEffect { stops, plaintext, flows_again, other_change, unknown, not_judged, unchanged };
std::string_view effect_name(WhatIfEffect e);  // stops, plaintext, flows_again, changes, unknown, not_judged, unchanged

struct WhatIfRow {
  std::string domain;
  WhatIfEffect effect = WhatIfEffect::unchanged;
  std::optional<Verdict> now, proposed;  // the destination's overall verdict under each
  std::string why;                       // unknown / not judged: the reason
  std::vector<std::string> notes;        // what was inferred
  std::optional<DestinationOutcomes> log;  // what the MTA's log says, if it names the destination
};

struct WhatIfReport {
  std::string settings;
  std::string current_profile, proposed_profile;  // "postfix at may", ...
  std::size_t judged = 0, changed = 0, unknown = 0, not_judged = 0;
  std::vector<WhatIfRow> rows;  // stops, plaintext, flows again, other changes, unknown, not judged, unchanged
};

// `verdicts`: the stored ones (with facts); `history`: newer probes that
// reached no verdict (transport failures: judged from the facts their
// records keep, else listed as not judged); `mta`: the log's tally, joined
// by destination.
WhatIfReport run_what_if(const std::vector<StoredVerdict>& verdicts, const std::vector<StoredVerdict>& history,
                         const ClientProfile& current, const ClientProfile& proposed, const WhatIfSettings& settings,
                         const std::vector<DestinationOutcomes>& mta);

std::string render_what_if_text(const WhatIfReport& r);
std::string render_what_if_json(const WhatIfReport& r);

}  // namespace mxtls
