#include "engine/kernel_binary.hpp"

#include "engine/runner/launch_plan.hpp"

namespace ktune {

namespace {

LaunchDims dims_of(const runner::LaunchShape& shape) {
  LaunchDims dims;
  dims.grid = shape.grid;
  dims.block = shape.block;
  dims.dynamic_shared_bytes = shape.dynamic_shared_bytes;
  return dims;
}

BinaryKernel binary_kernel(const KernelSpec& spec, std::string entry, const runner::LaunchShape& shape,
                           const std::vector<std::size_t>& args) {
  BinaryKernel kernel{std::move(entry), dims_of(shape), {}};
  for (std::size_t a : args) kernel.args.push_back(spec.args.at(a).name);
  return kernel;
}

}  // namespace

Status fill_kernels(KernelBinary& binary, const KernelSpec& spec, const runner::LaunchPlan& plan) {
  const std::vector<std::string>& names = binary.kernel.lowered_names;
  const std::size_t launched = spec.is_pipeline() ? spec.pipeline.size() : 1;
  if (names.size() != launched + spec.setup.size() || plan.stage_shapes.size() + 1 != launched ||
      plan.setup_shapes.size() != spec.setup.size())
    return make_error(Errc::internal, "binary: the program has " + std::to_string(names.size()) + " kernels, the spec " +
                                          std::to_string(launched + spec.setup.size()));
  binary.stages.clear();
  binary.setup.clear();
  if (spec.is_pipeline()) {
    for (std::size_t i = 0; i < launched; ++i)
      binary.stages.push_back(binary_kernel(spec, names[i], i == 0 ? plan.shape : plan.stage_shapes[i - 1], spec.pipeline[i].args));
  } else {
    std::vector<std::size_t> every(spec.args.size());
    for (std::size_t a = 0; a < every.size(); ++a) every[a] = a;
    binary.stages.push_back(binary_kernel(spec, names.front(), plan.shape, every));
  }
  for (std::size_t i = 0; i < spec.setup.size(); ++i)
    binary.setup.push_back(binary_kernel(spec, names[launched + i], plan.setup_shapes[i], spec.setup[i].args));
  binary.launch = binary.stages.front().launch;
  return Ok{};
}

}  // namespace ktune
