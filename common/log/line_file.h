// A log file opened for appending: each write(2) on the O_APPEND descriptor
// lands whole after whatever any process wrote before, so lines of
// concurrent writers never interleave.
// A process killed (SIGKILL, OOM) while the kernel copies a write that
// crosses a page of the file can leave it cut short: Linux checks for a
// fatal signal between pages. Opening the file again (the next start) ends
// such a fragment with a newline, so it stays a line of its own and the
// next line is whole.
#pragma once
#include <cstddef>
#include <string>

namespace mxtls::log {

class LineFile {
 public:
  // Opens (creates) `path` and ends a fragment a killed writer left;
  // throws std::runtime_error naming the file.
  explicit LineFile(const std::string& path);
  // Standard error, already open: written to, never closed.
  static LineFile standard_error() { return LineFile(2, false); }
  ~LineFile();
  LineFile(LineFile&& other) noexcept;
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;
  LineFile& operator=(LineFile&&) = delete;

  // One write(2) of whole lines; finishes one a signal or a full disk cut
  // short. What cannot be written is dropped: there is nowhere to say so.
  void write(const char* data, std::size_t size) const;

 private:
  LineFile(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
};

}  // namespace mxtls::log
