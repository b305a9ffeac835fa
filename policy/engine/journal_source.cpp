#include "engine/journal_source.h"

#include <systemd/sd-journal.h>

#include <cstring>
#include <ctime>
#include <stdexcept>

#include "report/mta_log.h"

namespace mxtls {
namespace {

// The value of `name` in the current entry ("" when absent): a copy, as
// the library's buffer is reused by the next call.
std::string journal_field(sd_journal* j, const char* name) {
  const void* data = nullptr;
  std::size_t size = 0;
  if (sd_journal_get_data(j, name, &data, &size) < 0) return {};
  const std::string_view entry(static_cast<const char*>(data), size);
  const std::size_t prefix = std::strlen(name) + 1;  // "NAME="
  return entry.size() >= prefix ? std::string(entry.substr(prefix)) : std::string();
}

// RFC 3339 in UTC, microseconds, as report/log_time reads it.
std::string journal_stamp(uint64_t usec) {
  const std::time_t seconds = static_cast<std::time_t>(usec / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%06uZ", static_cast<unsigned>(usec % 1000000));
  return text;
}

}  // namespace

std::optional<std::string> journal_directory(const std::string& mta_log) {
  if (mta_log == "journal") return std::string();
  if (mta_log.starts_with("journal:")) return mta_log.substr(8);
  return std::nullopt;
}

JournalSource::JournalSource(const std::string& directory) {
  const int r = directory.empty() ? sd_journal_open(&journal_, SD_JOURNAL_LOCAL_ONLY)
                                  : sd_journal_open_directory(&journal_, directory.c_str(), 0);
  if (r < 0) throw std::runtime_error(std::string("cannot open the journal: ") + std::strerror(-r));
  // Longer values come back cut to this size (and are then skipped).
  sd_journal_set_data_threshold(journal_, kMaxMtaLine + 64);
  sd_journal_add_match(journal_, "SYSLOG_FACILITY=2", 0);
  // Watching the directory makes sd_journal_process() see files journald
  // adds (rotation); the descriptor itself is not waited on.
  sd_journal_get_fd(journal_);
  sd_journal_seek_tail(journal_);
  sd_journal_previous(journal_);  // on the last entry, if any: next() gives what follows
}

JournalSource::~JournalSource() { sd_journal_close(journal_); }

std::size_t JournalSource::read(std::size_t max_entries, const std::function<void(std::string_view)>& line) {
  sd_journal_process(journal_);
  std::size_t n = 0;
  std::string text;
  while (n < max_entries && sd_journal_next(journal_) > 0) {
    ++n;
    const auto message = journal_field(journal_, "MESSAGE");
    if (message.empty() || message.size() > kMaxMtaLine) continue;
    uint64_t usec = 0;
    sd_journal_get_realtime_usec(journal_, &usec);
    const auto host = journal_field(journal_, "_HOSTNAME");
    const auto ident = journal_field(journal_, "SYSLOG_IDENTIFIER");
    auto pid = journal_field(journal_, "SYSLOG_PID");
    if (pid.empty()) pid = journal_field(journal_, "_PID");
    text.assign(journal_stamp(usec)).append(" ").append(host.empty() ? "localhost" : host).append(" ");
    text.append(ident.empty() ? "unknown" : ident).append("[").append(pid).append("]: ").append(message);
    if (text.size() <= kMaxMtaLine) line(text);
  }
  return n;
}

}  // namespace mxtls
