#pragma once
// The instantiate step: a spec at concrete sizes (and a configuration) becomes the plain values
// the GPU runner is handed (engine/runner/launch_plan.hpp). Every expression is evaluated and
// checked here, on the host, before anything is allocated or launched.
#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"
#include "engine/runner/launch_plan.hpp"

namespace ktune {

// The buffers and the argument order of the spec at `sizes`.
Result<runner::Problem> make_problem(const KernelSpec& spec, const Sizes& sizes);
// Errc::invalid_argument with the reason when an expression cannot be evaluated or is out of range.
Result<runner::LaunchPlan> plan_launch(const KernelSpec& spec, const Config& config, const Sizes& sizes);

}  // namespace ktune
