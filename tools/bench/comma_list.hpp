#pragma once
// The benchmarks' list options ("--strategies a,b", "--budgets 25,50"): the non-empty items of a
// comma-separated list.
#include <sstream>
#include <string>
#include <vector>

namespace ktune::bench {

inline std::vector<std::string> split_comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace ktune::bench
