#pragma once
// A parameter space written inline in a strategy test: parameters with their lists, and
// constraints in the spec's expression language.
#include <string>
#include <utility>
#include <vector>

#include "tuner/param_space.hpp"

namespace ktune::testing {

inline ParamSpace space_of(std::vector<Parameter> params, std::vector<std::string> constraints = {}) {
  ParamSpace s;
  s.params = std::move(params);
  for (const auto& text : constraints) s.constraints.push_back({Expr::parse(text, s.resolver()).value_or_throw(), false});
  return s;
}

}  // namespace ktune::testing
