#include "tuner/param_space.hpp"

#include <limits>

namespace ktune {

std::optional<int> ParamSpace::slot_of(std::string_view name) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  for (std::size_t i = 0; i < size_names.size(); ++i)
    if (size_names[i] == name) return static_cast<int>(params.size() + i);
  return std::nullopt;
}

int ParamSpace::param_index(std::string_view name) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  return -1;
}

std::uint64_t ParamSpace::product() const {
  std::uint64_t total = 1;
  for (const auto& p : params) {
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(p.values.size()), &total))
      return std::numeric_limits<std::uint64_t>::max();
  }
  return total;
}

Expr::Resolver ParamSpace::resolver() const {
  return [this](std::string_view name) { return slot_of(name); };
}

}  // namespace ktune
