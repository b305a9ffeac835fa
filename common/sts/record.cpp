#include "sts/record.h"

#include "log/sanitize.h"

namespace mxtls::sts {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
// sts-ext-value: %x21-3A / %x3C / %x3E-7E (no "=", ";", space or controls).
bool is_ext_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u <= 0x3a) || u == 0x3c || (u >= 0x3e && u <= 0x7e);
}

std::string printable(std::string_view s) { return sanitize(s, 40); }

}  // namespace

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_ext_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || !is_alnum(name[0])) return false;
  for (char c : name.substr(1))
    if (!(is_alnum(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool is_sts_record(std::string_view text) {
  constexpr std::string_view kVersion = "v=STSv1";
  if (!text.starts_with(kVersion)) return false;
  return text.size() == kVersion.size() || text[kVersion.size()] == ';' || is_wsp(text[kVersion.size()]);
}

RecordParse parse_record(std::string_view text) {
  if (text.size() > kMaxRecordSize)
    return {std::nullopt, "TXT record of " + std::to_string(text.size()) + " bytes, over the limit of " +
                              std::to_string(kMaxRecordSize)};
  if (!is_sts_record(text)) return {std::nullopt, "does not begin with v=STSv1"};
  std::string_view rest = text.substr(7);
  TxtRecord record;
  bool have_id = false;
  int fields = 0;
  // 1*(sts-field-delim sts-field) [sts-field-delim]; delim = *WSP ";" *WSP
  while (!rest.empty()) {
    std::size_t i = 0;
    while (i < rest.size() && is_wsp(rest[i])) ++i;
    if (i == rest.size()) {
      if (fields == 0) return {std::nullopt, "no field after v=STSv1"};
      return {std::nullopt, "trailing blanks without ';'"};
    }
    if (rest[i] != ';') return {std::nullopt, "expected ';' before \"" + printable(rest.substr(i)) + "\""};
    ++i;
    while (i < rest.size() && is_wsp(rest[i])) ++i;
    rest = rest.substr(i);
    if (rest.empty()) break;  // the optional final delimiter
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != ';' && !is_wsp(rest[end])) ++end;
    const std::string_view field = rest.substr(0, end);
    rest = rest.substr(end);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) return {std::nullopt, "field \"" + printable(field) + "\" is not name=value"};
    const auto name = field.substr(0, eq);
    const auto value = field.substr(eq + 1);
    ++fields;
    if (name == "id") {
      if (have_id) return {std::nullopt, "more than one id"};
      if (value.empty() || value.size() > 32) return {std::nullopt, "id must be 1-32 letters and digits"};
      for (char c : value)
        if (!is_alnum(c)) return {std::nullopt, "id \"" + printable(value) + "\" is not 1-32 letters and digits"};
      record.id = std::string(value);
      have_id = true;
      continue;
    }
    if (!is_ext_name(name)) return {std::nullopt, "bad field name \"" + printable(name) + "\""};
    if (value.empty()) return {std::nullopt, "field " + std::string(name) + " has no value"};
    for (char c : value)
      if (!is_ext_value_char(c)) return {std::nullopt, "field " + std::string(name) + " has a bad value"};
  }
  if (fields == 0) return {std::nullopt, "no field after v=STSv1"};
  if (!have_id) return {std::nullopt, "no id field"};
  return {record, ""};
}

RecordSelection select_record(const std::vector<std::string>& txt_records) {
  RecordSelection out;
  std::vector<const std::string*> sts;
  for (const auto& r : txt_records)
    if (is_sts_record(r)) sts.push_back(&r);
  if (sts.empty()) return out;
  if (sts.size() > 1) {
    out.status = Discovery::invalid;
    out.detail = std::to_string(sts.size()) + " TXT records begin with v=STSv1 (exactly one is allowed)";
    return out;
  }
  const auto& text = *sts.front();
  out.text = text.size() > kMaxRecordSize ? text.substr(0, 80) + "..." : text;
  auto parsed = parse_record(text);
  if (!parsed.record) {
    out.status = Discovery::invalid;
    out.detail = "_mta-sts TXT record: " + parsed.error;
    return out;
  }
  out.status = Discovery::found;
  out.record = std::move(*parsed.record);
  return out;
}

}  // namespace mxtls::sts
