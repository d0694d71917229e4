#include "engine/model/instantiate.hpp"

#include "engine/model/included_headers.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

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
      // A scalar over sizes only is the same for every configuration: one that does not fit its
      // type is the problem's mistake, said once here rather than by every configuration.
      const bool sizes_only = arg.value && std::all_of(arg.value->slots_used().begin(), arg.value->slots_used().end(),
                                                       [&](int slot) { return slot >= static_cast<int>(spec.space.params.size()); });
      if (sizes_only) {
        auto value = evaluate(*arg.value, *slots, "args." + arg.name + ".value");
        if (value && !integer_fits(arg.type, *value))
          return make_error(Errc::invalid_argument, "args." + arg.name + ".value \"" + arg.value->text() + "\" is " +
                                                        std::to_string(*value) + ", outside " + element_type_name(arg.type) +
                                                        " (" + integer_range_text(arg.type) + ")");
      }
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
      // The kernel receives the scalar in its own width; a value that does not fit would wrap
      // silently (5'000'000'000 as an int is 705'032'704).
      if (!integer_fits(arg.type, *value))
        return make_error(Errc::invalid_argument, "args." + arg.name + ".value \"" + arg.value->text() + "\" is " +
                                                      std::to_string(*value) + ", outside " + element_type_name(arg.type) +
                                                      " (" + integer_range_text(arg.type) + ")");
      scalar.integer = *value;
    } else {
      scalar.is_floating = true;
      scalar.floating = arg.float_value;
    }
    plan.scalars.push_back(scalar);
  }
  return plan;
}

Result<std::string> choose_arch(const std::string& requested, const std::string& device_arch, const KernelSpec& spec) {
  std::string arch = !requested.empty() ? requested : !device_arch.empty() ? device_arch : "sm_90";
  bool well_formed = arch.rfind("sm_", 0) == 0 && arch.size() >= 5;
  for (std::size_t i = 3; well_formed && i < arch.size(); ++i)
    well_formed = std::isdigit(static_cast<unsigned char>(arch[i])) || (i + 1 == arch.size() && arch[i] == 'a');
  if (!well_formed)
    return make_error(Errc::invalid_argument, "expected a real architecture such as sm_90, got '" + arch + "'");
  if (spec.arch_specific && arch.back() != 'a') arch += 'a';
  return arch;
}

// NVRTC ships a few headers built in (cuda_fp16.h, ...) but not the toolkit's others (mma.h,
// cuda/pipeline, ...); kernels include those as they would with nvcc, so the toolkit's include
// folder and its CCCL folder (CUB, Thrust) are always on the path (toolkit_include_dirs,
// engine/model/included_headers.hpp).

workers::CompileJob make_compile_job(const KernelSpec& spec, const Config& config, const std::string& arch,
                                     bool use_nvrtc_cache) {
  workers::CompileJob job;
  job.source = spec.source;
  // The cubin key hashes the job's source, not the files it includes: the digest of the included
  // headers goes in as a trailing comment, so an edited header is a new cubin (NVRTC ignores it).
  if (!spec.headers_digest.empty()) job.source += "\n// ktune: included headers " + spec.headers_digest + "\n";
  job.source_name = spec.source_path.empty() ? spec.name + ".cu" : spec.source_path.filename().string();
  job.name_expressions = {spec.name_expression_for(config)};
  job.defines = spec.defines_for(config);
  job.options = spec.compile_options;
  for (const auto& dir : spec.include_dirs) job.options.push_back("-I" + dir.string());
  for (const auto& dir : toolkit_include_dirs()) job.options.push_back("-I" + dir);
  job.arch = arch;
  job.use_nvrtc_cache = use_nvrtc_cache;
  return job;
}

Result<Instance> instantiate(const KernelSpec& spec, const Config& config, const Sizes& sizes, const std::string& arch,
                             bool use_nvrtc_cache) {
  auto launch = plan_launch(spec, config, sizes);
  if (!launch) return launch.error();
  return Instance{make_compile_job(spec, config, arch, use_nvrtc_cache), std::move(*launch)};
}

}  // namespace ktune
