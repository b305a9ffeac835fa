#include "log/logger.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "log/line_file.h"
#include "log/line_sink.h"

namespace mxtls::log {
namespace {

int facility_from_name(const std::string& name) {
  static constexpr std::array<std::pair<std::string_view, int>, 12> kFacilities{{
      {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER}, {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {"auth", LOG_AUTH},
  }};
  for (const auto& [n, f] : kFacilities)
    if (n == name) return f;
  throw std::runtime_error("unknown syslog facility '" + name + "' (expected mail, daemon, user, auth or local0..local7)");
}

// A file or standard error: the lines in one write(2).
class FileTarget final : public LineTarget {
 public:
  explicit FileTarget(LineFile file) : file_(std::move(file)) {}
  void write(const Lines& lines) override { file_.write(lines.text.data(), lines.text.size()); }

 private:
  LineFile file_;
};

// syslog(3), one record per line; it adds "ident[pid]:" itself. Never
// closed: a log set up again opens its own before the old target goes, and
// closelog(3) would then drop the new one's ident.
class SyslogTarget final : public LineTarget {
 public:
  SyslogTarget(std::string ident, int facility) : ident_(std::move(ident)) {
    ::openlog(ident_.c_str(), LOG_PID | LOG_NDELAY, facility);
  }
  void write(const Lines& lines) override {
    std::size_t start = 0;
    for (const auto& line : lines.lines) {
      ::syslog(priority(line.level), "%.*s", static_cast<int>(line.end - 1 - start), lines.text.data() + start);
      start = line.end;
    }
  }

 private:
  static int priority(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::warn: return LOG_WARNING;
      case spdlog::level::err: return LOG_ERR;
      case spdlog::level::critical: return LOG_CRIT;
      case spdlog::level::info: return LOG_INFO;
      default: return LOG_DEBUG;
    }
  }
  const std::string ident_;  // openlog keeps the pointer
};

// The line as it is: no format string to run it through.
void write(spdlog::level::level_enum level, std::string_view line) {
  spdlog::default_logger_raw()->log(spdlog::source_loc{}, level, spdlog::string_view_t(line.data(), line.size()));
}

spdlog::level::level_enum level_from_name(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  throw std::runtime_error("unknown log level '" + name + "' (expected debug, info, warning or error)");
}

}  // namespace

void init(const Options& options) {
  // The pid written in, not %P: that is a getpid(2) per line.
  const std::string stamped = "%Y-%m-%dT%H:%M:%S.%e " + options.ident + "[" + std::to_string(::getpid()) + "]: %v";
  spdlog::sink_ptr sink;
  std::string pattern = stamped;
  if (options.target == "syslog") {
    sink = std::make_shared<LineSink>(std::make_unique<SyslogTarget>(options.ident, facility_from_name(options.facility)),
                                      options.writing);
    pattern = "%v";
  } else if (options.target == "stderr") {
    sink = std::make_shared<LineSink>(std::make_unique<FileTarget>(LineFile::standard_error()), options.writing);
  } else if (options.target.starts_with("file:")) {
    sink = std::make_shared<LineSink>(std::make_unique<FileTarget>(LineFile(options.target.substr(5))), options.writing);
  } else if (options.target == "none") {
    sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  } else {
    throw std::runtime_error("unknown log target '" + options.target + "' (expected syslog, stderr, file:/path or none)");
  }
  auto logger = std::make_shared<spdlog::logger>(options.ident, std::move(sink));
  logger->set_pattern(pattern);
  // Nothing to write: the level says so, and callers skip building lines.
  logger->set_level(options.target == "none" ? spdlog::level::off : level_from_name(options.level));
  spdlog::set_default_logger(std::move(logger));
}

void flush() { spdlog::default_logger_raw()->flush(); }

void debug(std::string_view line) { write(spdlog::level::debug, line); }
bool debug_enabled() { return spdlog::should_log(spdlog::level::debug); }
void info(std::string_view line) { write(spdlog::level::info, line); }
bool info_enabled() { return spdlog::should_log(spdlog::level::info); }
void warning(std::string_view line) { write(spdlog::level::warn, line); }
void error(std::string_view line) { write(spdlog::level::err, line); }

}  // namespace mxtls::log
