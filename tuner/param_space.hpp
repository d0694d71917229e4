#pragma once
// The tunable part of a kernel: parameters with their candidate values, the names of the problem
// sizes, and the constraints relating them. Built by the spec parser (engine/), consumed by the
// search space. Expression slots are laid out as [parameters..., sizes...].
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/expr.hpp"
#include "engine/common/named_values.hpp"

namespace ktune {

struct Parameter {
  std::string name;
  std::vector<std::int64_t> values;  // ascending, distinct (the parser sorts and checks)
};

struct Constraint {
  Expr expr;
  bool uses_sizes = false;  // can only be decided once problem sizes are known
};

struct ParamSpace {
  std::vector<Parameter> params;
  std::vector<std::string> size_names;
  std::vector<Constraint> constraints;

  std::optional<int> slot_of(std::string_view name) const;
  int slot_count() const { return static_cast<int>(params.size() + size_names.size()); }
  // The Cartesian product size, saturating at UINT64_MAX.
  std::uint64_t product() const;
  int param_index(std::string_view name) const;  // -1 when not a parameter
  Expr::Resolver resolver() const;
};

// Why `config` is not a valid configuration of `space` at `sizes` — a name that is no parameter, a
// missing parameter, a value not in its list, a constraint false or not evaluable — or nullopt when
// it is valid. Every constraint is checked (sizes must name every size of the space); the same
// verdict as SearchSpace::is_valid on a space built at these sizes, without enumerating it, so an
// imported or stored configuration can be checked in microseconds.
std::optional<std::string> why_invalid_at(const ParamSpace& space, const Config& config, const Sizes& sizes);

// "32, 64, 128" (long lists elided), for messages.
std::string join_values(const std::vector<std::int64_t>& values);

}  // namespace ktune
