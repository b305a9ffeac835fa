// Renders a probed and classified destination for people (a report readable
// at a glance) and for scripts (one JSON document). Untrusted strings are
// sanitized in the text report and kept (invalid UTF-8 replaced) in JSON.
#pragma once
#include <string>

#include "verdict/verdict.h"
#include "probe/probe_result.h"
#include "tls/client_profile.h"
#include "util/json.h"

namespace mxtls {

std::string render_text_report(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile);
Json render_json_report(const DestinationProbe& probe, const DestinationVerdict& verdict, const ClientProfile& profile);

}  // namespace mxtls
