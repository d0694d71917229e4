#include "tuner/param_space.hpp"

#include <algorithm>
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

std::string join_values(const std::vector<std::int64_t>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    if (i == 8 && values.size() > 10) {
      out += "... (" + std::to_string(values.size()) + " values)";
      break;
    }
    out += std::to_string(values[i]);
  }
  return out;
}

std::optional<std::string> why_invalid_at(const ParamSpace& space, const Config& config, const Sizes& sizes) {
  const auto& params = space.params;
  if (config.empty() && !params.empty()) return std::string("the configuration is empty");
  for (const auto& [name, value] : config)
    if (space.param_index(name) < 0) return name + " is not a parameter of this kernel";
  std::vector<std::int64_t> slots(static_cast<std::size_t>(space.slot_count()), 0);
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto value = find_value(config, params[p].name);
    if (!value) return "no value for " + params[p].name;
    if (!std::binary_search(params[p].values.begin(), params[p].values.end(), *value))
      return params[p].name + "=" + std::to_string(*value) + " is not one of " + join_values(params[p].values);
    slots[p] = *value;
  }
  for (std::size_t s = 0; s < space.size_names.size(); ++s) {
    auto value = find_value(sizes, space.size_names[s]);
    if (!value) return "no value for size " + space.size_names[s];
    slots[params.size() + s] = *value;
  }
  for (const auto& constraint : space.constraints) {
    EvalResult r = constraint.expr.evaluate(slots);
    if (!r.ok()) return "constraint \"" + constraint.expr.text() + "\" cannot be evaluated: " + eval_error_text(r.error);
    if (r.value == 0) return "constraint \"" + constraint.expr.text() + "\" is false";
  }
  return std::nullopt;
}

}  // namespace ktune
