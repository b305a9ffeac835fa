// Pure parsers for what an SMTP server sends a client: multi-line replies
// (RFC 5321 4.2) and the EHLO extension list. Bytes in, result out; no I/O.
// Limits are explicit and a violation stops parsing at once.
#pragma once
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mxtls::smtp {

inline constexpr std::size_t kMaxReplyLine = 2048;   // RFC 5321 says 512; be lenient
inline constexpr std::size_t kMaxReplyLines = 100;
inline constexpr std::size_t kMaxReplyBytes = 65536;

struct Reply {
  int code = 0;                     // 200..599
  std::vector<std::string> lines;   // text after "NNN-" / "NNN ", raw (unsanitized)
  std::string first_line() const { return lines.empty() ? std::string() : lines.front(); }
};

enum class ParseStatus { need_more, complete, malformed };

struct ReplyParse {
  ParseStatus status = ParseStatus::need_more;
  Reply reply;             // valid when complete
  std::size_t consumed = 0;  // bytes of the input that made the reply
  std::string error;       // when malformed
};

// Parses one reply from the start of `input`.
ReplyParse parse_reply(std::string_view input);

// True when the bytes look like a TLS record (handshake or alert) rather than
// SMTP text: an implicit-TLS server where an SMTP greeting was expected.
bool looks_like_tls_record(std::string_view input);

// EHLO keywords (upper-cased first word of each line after the first).
std::set<std::string> ehlo_keywords(const Reply& ehlo_reply);

}  // namespace mxtls::smtp
