// A minimal JSON writer for reports (`mxtls probe --json`): objects, arrays,
// strings (escaped per RFC 8259, bytes >= 0x80 as \u00XX so output is always
// valid), numbers, booleans. Write-only by design; mxtls never parses JSON.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(long long n);
  JsonWriter& value(int n) { return value(static_cast<long long>(n)); }
  JsonWriter& value(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

std::string json_escape(std::string_view s);

}  // namespace mxtls
