#include "smtp/reply.h"

#include <cctype>

namespace mxtls::smtp {

ReplyParse parse_reply(std::string_view input) {
  ReplyParse out;
  std::size_t pos = 0;
  while (true) {
    const auto nl = input.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (input.size() - pos > kMaxReplyLine) out = {ParseStatus::malformed, {}, 0, "reply line longer than 2048 bytes"};
      else if (input.size() > kMaxReplyBytes) out = {ParseStatus::malformed, {}, 0, "reply longer than 64 KiB"};
      return out;  // need_more unless a limit was hit
    }
    std::string_view line = input.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxReplyLine) return {ParseStatus::malformed, {}, 0, "reply line longer than 2048 bytes"};
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
        !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])))
      return {ParseStatus::malformed, {}, 0, "reply line does not start with a 3-digit code"};
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599) return {ParseStatus::malformed, {}, 0, "reply code out of range 200-599"};
    if (out.reply.code != 0 && code != out.reply.code)
      return {ParseStatus::malformed, {}, 0, "multi-line reply changes its code"};
    out.reply.code = code;
    const char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-') return {ParseStatus::malformed, {}, 0, "reply code not followed by ' ' or '-'"};
    out.reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (out.reply.lines.size() > kMaxReplyLines) return {ParseStatus::malformed, {}, 0, "reply has more than 100 lines"};
    pos = nl + 1;
    if (pos > kMaxReplyBytes) return {ParseStatus::malformed, {}, 0, "reply longer than 64 KiB"};
    if (sep == ' ') {
      out.status = ParseStatus::complete;
      out.consumed = pos;
      return out;
    }
  }
}

bool looks_like_tls_record(std::string_view input) {
  // ContentType handshake (22) or alert (21), then major version 3.
  return input.size() >= 2 && (input[0] == '\x16' || input[0] == '\x15') && input[1] == '\x03';
}

std::set<std::string> ehlo_keywords(const Reply& ehlo_reply) {
  std::set<std::string> keywords;
  for (std::size_t i = 1; i < ehlo_reply.lines.size(); ++i) {
    std::string word;
    for (char c : ehlo_reply.lines[i]) {
      if (c == ' ' || c == '=') break;
      word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (!word.empty()) keywords.insert(std::move(word));
  }
  return keywords;
}

}  // namespace mxtls::smtp
