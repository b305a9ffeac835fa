// MTA-STS discovery (RFC 8461 3.1): the _mta-sts.<domain> TXT record,
// "v=STSv1; id=20240101T000000;". Pure, strict and bounded: the record must
// match the RFC's ABNF (version first, fields separated by ";", an id of
// 1-32 letters and digits, extension fields name=value), and a record over
// kMaxRecordSize bytes is refused with that reason, never read further.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls::sts {

// RFC 8461 sets no limit; a valid record with a 32-character id is ~30
// bytes. 1 KiB leaves room for extensions and stops a 64 KiB TXT early.
inline constexpr std::size_t kMaxRecordSize = 1024;

struct TxtRecord {
  std::string id;
};

struct RecordParse {
  std::optional<TxtRecord> record;
  std::string error;  // why not, when record is empty
};

// One record, its character-strings already joined (RFC 8461 3.1).
RecordParse parse_record(std::string_view text);

// True for a record that begins with "v=STSv1" followed by ";", blank or
// the end: only those take part in discovery (others are discarded).
bool is_sts_record(std::string_view text);

// RFC 8461's extension names (sts-ext-name, and sts-policy-ext-name in the
// policy file): a letter or digit, then up to 31 of those or "_-.".
bool is_ext_name(std::string_view name);
bool is_alnum(char c);  // ASCII letters and digits only

enum class Discovery {
  none,     // no record begins with v=STSv1: no policy (RFC 8461 3.1)
  found,    // exactly one, and it is valid
  invalid,  // several, or the one is invalid: also "no policy", but worth reporting
};

struct RecordSelection {
  Discovery status = Discovery::none;
  TxtRecord record;
  std::string text;    // the STS record (found/invalid with one record), as published
  std::string detail;  // why invalid
};

// From every TXT record at _mta-sts.<domain>: discards those that are not
// STS records; exactly one must remain and be valid.
RecordSelection select_record(const std::vector<std::string>& txt_records);

}  // namespace mxtls::sts
