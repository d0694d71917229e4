#pragma once
// The instantiate step: a spec at concrete sizes and a configuration become what the compile
// workers and the GPU runner are handed — the NVRTC job (source, name expression, defines,
// options, architecture) and the plain launch values (engine/runner/launch_plan.hpp). The one place
// a spec is mapped onto either; every expression is evaluated and checked here, on the host,
// before anything is compiled, allocated or launched.
#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"
#include "engine/runner/launch_plan.hpp"
#include "workers/compile_job.hpp"

namespace ktune {

// The buffers and the argument order of the spec at `sizes`. A buffer whose type follows a named
// choice is allocated and filled in `config`'s type (the default configuration's without one).
Result<runner::Problem> make_problem(const KernelSpec& spec, const Sizes& sizes, const Config* config = nullptr);
// Errc::invalid_argument with the reason when an expression cannot be evaluated or is out of range.
Result<runner::LaunchPlan> plan_launch(const KernelSpec& spec, const Config& config, const Sizes& sizes);

// `requested` ("sm_90"), else `device_arch`, else sm_90 (ktune's target without a GPU); a spec
// that asks for arch-specific features gets the "a" variant. Errc::invalid_argument for a name
// that is not sm_NN.
Result<std::string> choose_arch(const std::string& requested, const std::string& device_arch, const KernelSpec& spec);

// `sizes`: what a spec with sizes_to_preprocessor defines (the compile at sizes of instantiate);
// without them such a spec is compiled without its size defines.
workers::CompileJob make_compile_job(const KernelSpec& spec, const Config& config, const std::string& arch,
                                     bool use_nvrtc_cache = true, const Sizes* sizes = nullptr);

// One configuration at these sizes: what to compile and how to launch it.
struct Instance {
  workers::CompileJob compile;
  runner::LaunchPlan launch;
  // The kernel's arguments when they are not the problem's (runner::KernelJob::own_args): a
  // pipeline's reference kernel takes every argument the spec declares.
  std::optional<std::vector<runner::ArgSlot>> own_args;
};
Result<Instance> instantiate(const KernelSpec& spec, const Config& config, const Sizes& sizes, const std::string& arch,
                             bool use_nvrtc_cache = true);
// The reference kernel (verify.against.kernel) at these sizes: its own source, entry and launch
// geometry, the default configuration's defines and scalar values, the same buffers. With
// verify.match, `config`'s values of the matched parameters replace the default's
// (KernelSpec::reference_config_for): the reference of that configuration's combination.
Result<Instance> instantiate_reference(const KernelSpec& spec, const Sizes& sizes, const std::string& arch,
                                       const Config* config = nullptr);

}  // namespace ktune
