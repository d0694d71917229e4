#include "engine/model/size_buckets.hpp"

#include <algorithm>

namespace ktune {

std::optional<std::int64_t> SizeBuckets::representative(std::int64_t value) const {
  if (powers_of_two) {
    if (value < 1 || value > (std::int64_t{1} << 62)) return std::nullopt;
    std::int64_t edge = 1;
    while (edge < value) edge <<= 1;
    return edge;
  }
  if (edges.empty() || value < edges.front() || value > edges.back()) return std::nullopt;
  return *std::lower_bound(edges.begin(), edges.end(), value);
}

std::string SizeBuckets::describe() const {
  if (powers_of_two) return "pow2";
  std::string text = "[";
  for (std::size_t i = 0; i < edges.size(); ++i) text += (i ? ", " : "") + std::to_string(edges[i]);
  return text + "]";
}

}  // namespace ktune
