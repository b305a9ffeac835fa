#include "report/log_time.h"

#include <ctime>

namespace mxtls {
namespace {

// The number of `width` digits at `at` in `s`, or -1.
int digits(std::string_view s, std::size_t at, std::size_t width) {
  if (s.size() < at + width) return -1;
  int n = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    n = n * 10 + (s[i] - '0');
  }
  return n;
}

bool plausible(const std::tm& t) {
  return t.tm_mon >= 0 && t.tm_mon < 12 && t.tm_mday >= 1 && t.tm_mday <= 31 && t.tm_hour < 24 && t.tm_min < 60 &&
         t.tm_sec <= 60;
}

std::optional<int64_t> rfc3339(std::string_view s) {
  std::tm t{};
  const int year = digits(s, 0, 4), mon = digits(s, 5, 2), day = digits(s, 8, 2);
  const int hour = digits(s, 11, 2), min = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (year < 1970 || year > 9999 || mon < 1 || day < 0 || hour < 0 || min < 0 || sec < 0 || s[4] != '-' ||
      s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  t.tm_year = year - 1900, t.tm_mon = mon - 1, t.tm_mday = day, t.tm_hour = hour, t.tm_min = min, t.tm_sec = sec;
  if (!plausible(t)) return std::nullopt;
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.')
    for (++at; at < s.size() && at < 40 && s[at] >= '0' && s[at] <= '9';) ++at;
  int64_t offset = 0;
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (oh < 0 || om < 0 || s[at + 3] != ':') return std::nullopt;
    offset = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (at >= s.size() || s[at] != 'Z') {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&t)) - offset;
}

std::optional<int64_t> bsd_syslog(std::string_view s, int64_t now) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() < 15 || s[3] != ' ' || s[9] != ':' || s[12] != ':') return std::nullopt;
  const auto month = kMonths.find(s.substr(0, 3));
  if (month == std::string_view::npos || month % 3 != 0) return std::nullopt;
  const int day = s[4] == ' ' ? digits(s, 5, 1) : digits(s, 4, 2);
  const int hour = digits(s, 7, 2), min = digits(s, 10, 2), sec = digits(s, 13, 2);
  if (day < 1 || hour < 0 || min < 0 || sec < 0) return std::nullopt;
  const std::time_t now_t = static_cast<std::time_t>(now);
  std::tm local{};
  localtime_r(&now_t, &local);
  for (int year = local.tm_year; year >= local.tm_year - 1; --year) {
    std::tm t{};
    t.tm_year = year, t.tm_mon = static_cast<int>(month / 3), t.tm_mday = day, t.tm_hour = hour, t.tm_min = min,
    t.tm_sec = sec, t.tm_isdst = -1;
    if (!plausible(t)) return std::nullopt;
    const auto at = static_cast<int64_t>(std::mktime(&t));
    if (at <= now + 86400) return at;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> log_line_time(std::string_view line, int64_t now) {
  if (const auto t = rfc3339(line)) return t;
  return bsd_syslog(line, now);
}

}  // namespace mxtls
