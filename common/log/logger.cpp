#include "log/logger.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "log/line_file_sink.h"

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

spdlog::level::level_enum level_from_name(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  throw std::runtime_error("unknown log level '" + name + "' (expected debug, info, warning or error)");
}

}  // namespace

void init(const Options& options) {
  spdlog::sink_ptr sink;
  std::string pattern = "%v";
  if (options.target == "syslog") {
    // syslog adds "ident[pid]:" itself.
    sink = std::make_shared<spdlog::sinks::syslog_sink_mt>(options.ident, LOG_PID | LOG_NDELAY,
                                                           facility_from_name(options.facility), false);
  } else if (options.target == "stderr") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    pattern = "%Y-%m-%dT%H:%M:%S.%e " + options.ident + "[%P]: %v";
  } else if (options.target.starts_with("file:")) {
    sink = std::make_shared<LineFileSink>(options.target.substr(5));
    pattern = "%Y-%m-%dT%H:%M:%S.%e " + options.ident + "[%P]: %v";
  } else if (options.target == "none") {
    sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  } else {
    throw std::runtime_error("unknown log target '" + options.target + "' (expected syslog, stderr, file:/path or none)");
  }
  auto logger = std::make_shared<spdlog::logger>(options.ident, std::move(sink));
  logger->set_pattern(pattern);
  logger->set_level(level_from_name(options.level));
  // No sink buffers: a line is out (one write(2) or syslog(3) call) when
  // the call that logs it returns.
  spdlog::set_default_logger(std::move(logger));
}

void debug(std::string_view line) { spdlog::debug("{}", line); }
bool debug_enabled() { return spdlog::should_log(spdlog::level::debug); }
void info(std::string_view line) { spdlog::info("{}", line); }
void warning(std::string_view line) { spdlog::warn("{}", line); }
void error(std::string_view line) { spdlog::error("{}", line); }

}  // namespace mxtls::log
