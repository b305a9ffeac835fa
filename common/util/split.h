// Splits the lists operators write in mxtls.conf ("a b", "a, b") into
// items: separators are spaces, tabs and commas; empty items are dropped.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mxtls {

inline std::vector<std::string> split_list(std::string_view list, std::string_view separators = " ,\t") {
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (pos < list.size()) {
    const auto end = list.find_first_of(separators, pos);
    const auto item = list.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!item.empty()) items.emplace_back(item);
    pos = end == std::string_view::npos ? list.size() : end + 1;
  }
  return items;
}

}  // namespace mxtls
