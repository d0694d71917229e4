#include "workers/compile_log.hpp"

#include <algorithm>

namespace ktune::workers {

std::string compile_log_headline(std::string_view log) {
  std::size_t start = 0;
  std::string_view first;
  while (start < log.size()) {
    const std::size_t end = std::min(log.find('\n', start), log.size());
    const std::string_view line = log.substr(start, end - start);
    if (first.empty() && !line.empty()) first = line;
    if (line.find("error") != std::string_view::npos) return std::string(line);
    start = end + 1;
  }
  return std::string(first);
}

}  // namespace ktune::workers
