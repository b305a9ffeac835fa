// The systemd journal as the MTA's log for [feedback] ("mta_log = journal",
// or "journal:DIR" for the journal files in DIR, e.g. a container's): the
// mail facility's entries (SYSLOG_FACILITY=2: Postfix's and Sendmail's
// syslog lines), from the end of the journal as it stood when opened, each
// turned back into the line the MTA wrote ("2026-11-30T10:14:24.123456Z
// host postfix/smtp[4242]: text") for report/mta_log to read as it reads
// the mail log file. Polled, never waits; journald's own rotation is the
// library's business. Entries whose text exceeds kMaxMtaLine are skipped.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct sd_journal;

namespace mxtls {

// "journal" (the local system journal: ""), "journal:DIR" (DIR), or nullopt: a log file.
std::optional<std::string> journal_directory(const std::string& mta_log);

class JournalSource {
 public:
  // Opens the journal (directory "": the local system's) and places the
  // reader after its last entry. Throws std::runtime_error saying why not.
  explicit JournalSource(const std::string& directory);
  ~JournalSource();
  JournalSource(const JournalSource&) = delete;
  JournalSource& operator=(const JournalSource&) = delete;

  // Hands each mail-facility entry written since the last call to `line`,
  // at most `max_entries` of them; returns how many entries were read.
  std::size_t read(std::size_t max_entries, const std::function<void(std::string_view)>& line);

 private:
  sd_journal* journal_ = nullptr;
};

}  // namespace mxtls
