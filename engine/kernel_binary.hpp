#pragma once
// What a compiler needs to launch a kernel ktune tuned: the CUBIN, the symbol to load from it, and
// the launch geometry the spec's expressions give for the configuration at the sizes (planned by
// the same instantiate step the GPU runner's launches come from); for a pipeline and for setup
// kernels, each kernel's symbol, launch and argument order. Engine::binary and
// Engine::compile_async; ktune_binary in the C API.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"
#include "store/lookup.hpp"

namespace ktune::runner {
struct LaunchPlan;  // engine/runner/launch_plan.hpp (internal)
}  // namespace ktune::runner

namespace ktune {

// One configuration compiled (no sizes: one cubin serves every problem size).
struct CompiledKernel {
  Config config;
  std::string arch;            // "sm_90", "sm_90a"
  std::string cubin;           // ELF bytes, for cuLibraryLoadData / cuModuleLoadData
  std::string entry;           // the lowered symbol, for cuLibraryGetKernel / cuModuleGetFunction
  // Every lowered symbol of the program, as the spec names them (KernelSpec::name_expressions_for:
  // a pipeline's stages, then setup kernels); entry is the first.
  std::vector<std::string> lowered_names;
  bool from_cache = false;     // answered by the cubin cache
  double compile_seconds = 0;  // NVRTC time in the worker (0 for a cache hit)
  std::string log;             // NVRTC's log (warnings)
};

struct LaunchDims {
  std::array<std::int64_t, 3> grid{1, 1, 1};
  std::array<std::int64_t, 3> block{1, 1, 1};
  std::int64_t dynamic_shared_bytes = 0;  // > 48 KiB needs cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)
};

// One kernel of a binary's cubin as a caller launches it.
struct BinaryKernel {
  std::string entry;              // the lowered symbol
  LaunchDims launch;
  std::vector<std::string> args;  // the spec's argument names ("args"), in the kernel's parameter order
};

// The tuned configuration of a kernel at some sizes, ready to launch.
struct KernelBinary {
  store::LookupRule rule = store::LookupRule::none;  // which lookup rule chose the configuration (none: the default)
  CompiledKernel kernel;
  LaunchDims launch;  // of the first (a pipeline: its first stage; stages[0].launch)
  // What one run launches, in order on one stream: the kernel, or a pipeline's stages.
  std::vector<BinaryKernel> stages;
  // Launched once, in order, after the cubin is loaded and before the first run; the buffers they
  // write keep their contents (docs/spec.md "Setup kernels"). Empty when the spec has none.
  std::vector<BinaryKernel> setup;
};

// Fills binary.launch, .stages and .setup from the configuration's launch plan, the spec's
// argument lists and binary.kernel.lowered_names (a program compiled from
// KernelSpec::name_expressions_for). Errc::internal when the names do not match the spec's kernels.
Status fill_kernels(KernelBinary& binary, const KernelSpec& spec, const runner::LaunchPlan& plan);

}  // namespace ktune
