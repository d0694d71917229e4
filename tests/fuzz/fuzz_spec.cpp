// Fuzz target: the kernel spec parser (engine/model/spec.hpp, docs/spec.md), then what the runner does
// with a spec that parses: the problem (buffer sizes from expressions), the launch plan and its
// check against an H100's limits. The input is the spec's JSON text; relative source files
// resolve against tests/specs/invalid, so the seeds' "../valid_base.cu" is found.
//
// Checked beyond "no crash, no UB, no huge allocation, no exception escaping":
//   - an error is Errc::invalid_spec and names the origin ("spec: ...");
//   - a spec that parses has a default configuration and a verification reference holding one
//     listed value per parameter in parameter order, buffers with counts and scalars with values,
//     defines and a name expression for every configuration, an entry that is a name and optional
//     template arguments;
//   - the problem never exceeds kMaxProblemBytes and each buffer's bytes are count x element size;
//     scalar bytes are the element size, and an integer scalar fits its type.
#include <algorithm>
#include <filesystem>
#include <string>

#include "engine/runner/launch_limits.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/spec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace ktune;

namespace {

void check_config(const KernelSpec& spec, const Config& config) {
  KTUNE_FUZZ_CHECK(config.size() == spec.space.params.size());
  for (std::size_t p = 0; p < config.size(); ++p) {
    const Parameter& param = spec.space.params[p];
    KTUNE_FUZZ_CHECK(config[p].first == param.name);
    KTUNE_FUZZ_CHECK(std::binary_search(param.values.begin(), param.values.end(), config[p].second));
  }
}

void check_problem(const KernelSpec& spec, std::int64_t size_value) {
  Sizes sizes;
  for (const auto& name : spec.space.size_names) sizes.emplace_back(name, size_value);
  KTUNE_FUZZ_CHECK(spec.check_sizes(sizes).ok());

  auto problem = make_problem(spec, sizes);
  if (problem) {
    KTUNE_FUZZ_CHECK(problem->total_bytes <= runner::kMaxProblemBytes);
    for (const auto& buffer : problem->buffers)
      KTUNE_FUZZ_CHECK(buffer.bytes == buffer.count * element_size(buffer.type) && buffer.count <= buffer.bytes);
    // A pipeline: one argument list per later kernel, each naming the problem's buffers.
    KTUNE_FUZZ_CHECK(problem->stage_args.size() + 1 == std::max<std::size_t>(spec.pipeline.size(), 1));
    for (const auto& stage : problem->stage_args)
      for (const auto& arg : stage) KTUNE_FUZZ_CHECK(!arg.is_buffer || arg.index < problem->buffers.size());
    // Setup kernels: one argument list each, naming the problem's buffers (an output among them
    // only for its address: CUTLASS's parameter block).
    KTUNE_FUZZ_CHECK(problem->setup_args.size() == spec.setup.size());
    for (const auto& setup : problem->setup_args)
      for (const auto& arg : setup) KTUNE_FUZZ_CHECK(!arg.is_buffer || arg.index < problem->buffers.size());
  }

  auto launch = plan_launch(spec, spec.default_config, sizes);
  if (!launch) return;
  for (const auto& scalar : launch->scalars) {
    KTUNE_FUZZ_CHECK(scalar.bytes().size() == element_size(scalar.type));
    // Never a value that would wrap in the kernel's parameter.
    KTUNE_FUZZ_CHECK(scalar.is_floating || integer_fits(scalar.type, scalar.integer));
  }
  runner::KernelAttributes kernel;
  kernel.registers_per_thread = 32;
  kernel.static_shared_bytes = 4096;
  const runner::DeviceLimits h100 = runner::h100_limits();
  (void)runner::check_launch(h100, kernel, launch->shape);
  (void)runner::needs_shared_memory_opt_in(h100, kernel, launch->shape);
  KTUNE_FUZZ_CHECK(launch->stage_shapes.size() + 1 == std::max<std::size_t>(spec.pipeline.size(), 1));
  for (const auto& shape : launch->stage_shapes) (void)runner::check_launch(h100, kernel, shape);
  KTUNE_FUZZ_CHECK(launch->setup_shapes.size() == spec.setup.size());
  for (const auto& shape : launch->setup_shapes) (void)runner::check_launch(h100, kernel, shape);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path base_dir = KTUNE_FUZZ_SPEC_DIR;
  auto spec = KernelSpec::from_json_text(fuzz::as_text(data, size), base_dir);
  if (!spec) {
    ktune::fuzz::note(spec.error().message);
    KTUNE_FUZZ_CHECK(spec.error().code == Errc::invalid_spec);
    KTUNE_FUZZ_CHECK(spec.error().message.rfind("spec: ", 0) == 0);
    return 0;
  }

  KTUNE_FUZZ_CHECK(!spec->space.params.empty());
  check_config(*spec, spec->default_config);
  check_config(*spec, spec->verify.reference);
  for (const auto& arg : spec->args) {
    if (arg.is_buffer) KTUNE_FUZZ_CHECK(arg.count.has_value() && !arg.value.has_value());
    else KTUNE_FUZZ_CHECK(!arg.count.has_value());
  }
  KTUNE_FUZZ_CHECK(!spec->name_expression_for(spec->default_config).empty());
  KTUNE_FUZZ_CHECK(!spec->entry_name().empty());
  KTUNE_FUZZ_CHECK(spec->entry_name() + spec->entry_template_arguments() == spec->entry);
  const auto defines = spec->defines_for(spec->default_config);
  KTUNE_FUZZ_CHECK(defines.size() <= spec->space.params.size());

  for (std::int64_t size_value : {std::int64_t{0}, std::int64_t{1000}, std::int64_t{1} << 31, std::int64_t{1} << 62})
    check_problem(*spec, size_value);
  return 0;
}
