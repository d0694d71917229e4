#include "engine/model/instantiate.hpp"

namespace ktune {

using runner::LaunchPlan;
using runner::Problem;
using runner::ScalarArg;

namespace {

Result<std::int64_t> evaluate(const Expr& expr, const std::vector<std::int64_t>& slots, const std::string& what) {
  EvalResult r = expr.evaluate(slots);
  if (!r.ok())
    return make_error(Errc::invalid_argument, what + " \"" + expr.text() + "\" cannot be evaluated: " + eval_error_text(r.error));
  return r.value;
}

}  // namespace

Result<Problem> make_problem(const KernelSpec& spec, const Sizes& sizes) {
  // Buffer counts depend on sizes only (the parser checks), so the default config's slots serve.
  auto slots = spec.slots(spec.default_config, sizes);
  if (!slots) return slots.error();
  Problem problem;
  std::size_t scalars = 0;
  for (const auto& arg : spec.args) {
    if (!arg.is_buffer) {
      problem.args.push_back({false, scalars++});
      continue;
    }
    auto count = evaluate(*arg.count, *slots, "args." + arg.name + ".count");
    if (!count) return count.error();
    if (*count < 0)
      return make_error(Errc::invalid_argument, "args." + arg.name + ".count is negative (" + std::to_string(*count) + ")");
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(*count), element_size(arg.type), &bytes) ||
        bytes > runner::kMaxProblemBytes || problem.total_bytes + bytes > runner::kMaxProblemBytes)
      return make_error(Errc::invalid_argument, "args." + arg.name + " needs " + std::to_string(*count) +
                                                    " elements: the problem would exceed 1 TiB; check the sizes");
    problem.total_bytes += bytes;
    problem.args.push_back({true, problem.buffers.size()});
    problem.buffers.push_back({arg.name, arg.type, static_cast<std::uint64_t>(*count), bytes, arg.init, arg.output});
  }
  return problem;
}

Result<LaunchPlan> plan_launch(const KernelSpec& spec, const Config& config, const Sizes& sizes) {
  auto slots = spec.slots(config, sizes);
  if (!slots) return slots.error();
  LaunchPlan plan;
  const char* axis[] = {"x", "y", "z"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto grid = evaluate(spec.launch.grid[i], *slots, std::string("launch.grid.") + axis[i]);
    if (!grid) return grid.error();
    auto block = evaluate(spec.launch.block[i], *slots, std::string("launch.block.") + axis[i]);
    if (!block) return block.error();
    plan.shape.grid[i] = *grid;
    plan.shape.block[i] = *block;
  }
  auto shared = evaluate(spec.launch.shared_memory_bytes, *slots, "launch.shared_memory");
  if (!shared) return shared.error();
  plan.shape.dynamic_shared_bytes = *shared;
  for (const auto& arg : spec.args) {
    if (arg.is_buffer) continue;
    ScalarArg scalar;
    scalar.type = arg.type;
    if (arg.value) {
      auto value = evaluate(*arg.value, *slots, "args." + arg.name + ".value");
      if (!value) return value.error();
      scalar.integer = *value;
    } else {
      scalar.is_floating = true;
      scalar.floating = arg.float_value;
    }
    plan.scalars.push_back(scalar);
  }
  return plan;
}

}  // namespace ktune
