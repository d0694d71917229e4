#include "store/lookup.hpp"

#include <algorithm>
#include <cmath>

namespace ktune::store {

std::string_view to_string(LookupRule rule) noexcept {
  switch (rule) {
    case LookupRule::exact: return "exact";
    case LookupRule::nearest_size: return "nearest_size";
    case LookupRule::same_arch: return "same_arch";
    case LookupRule::none: return "none";
    case LookupRule::bucket: return "bucket";
  }
  return "unknown";
}

double size_distance(const Sizes& request, const Sizes& tuned) noexcept {
  if (request.size() != tuned.size()) return -1;
  double distance = 0;
  for (const auto& requested : request) {
    // A named pair, not a structured binding: clang before 16 cannot capture bindings in a lambda.
    const std::string& name = requested.first;
    const std::int64_t value = requested.second;
    auto it = std::find_if(tuned.begin(), tuned.end(), [&](const auto& item) { return item.first == name; });
    if (it == tuned.end()) return -1;
    const double a = static_cast<double>(std::max<std::int64_t>(value, 1));
    const double b = static_cast<double>(std::max<std::int64_t>(it->second, 1));
    distance += std::abs(std::log2(a) - std::log2(b));
  }
  return distance;
}

}  // namespace ktune::store
