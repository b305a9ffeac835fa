// When a mail log line was written, from its own time stamp: RFC 3339
// ("2026-11-30T06:18:27.123456+01:00 host prog[pid]: ...", rsyslog's and
// journald's precise format, and Postfix's maillog_file) or BSD syslog's
// ("Nov 30 06:18:27 host prog[pid]: ...", local time, no year: the year
// that puts it at most a day after `now`). Pure and bounded.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace mxtls {

// Unix seconds, or nullopt when the line starts with neither form.
std::optional<int64_t> log_line_time(std::string_view line, int64_t now);

}  // namespace mxtls
