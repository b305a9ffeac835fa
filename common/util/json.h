// The JSON documents mxtls prints (`mxtls probe --json`, `mxtls report
// --json`): nlohmann's ordered_json, whose fields keep the order they were
// added in, and the one way to print them: valid JSON for every input, UTF-8
// kept as it is, bytes that are not UTF-8 (a peer's banner or certificate
// names) replaced by U+FFFD, never passed through. mxtls parses JSON only
// where it reads stored probe facts back (probe/probe_facts.h).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mxtls {

using Json = nlohmann::ordered_json;

// One line, no trailing newline.
std::string to_json_text(const Json& document);

// Seconds, to the millisecond: a float printed as 0.412, not 0.41200000047.
double json_seconds(double seconds);

}  // namespace mxtls
