#pragma once
// What a compiler needs to launch a kernel ktune tuned: the CUBIN, the symbol to load from it, and
// the launch geometry the spec's expressions give for the configuration at the sizes (planned by
// the same instantiate step the GPU runner's launches come from). Engine::binary and
// Engine::compile_async; ktune_binary in the C API.
#include <array>
#include <cstdint>
#include <string>

#include "engine/common/named_values.hpp"
#include "store/lookup.hpp"

namespace ktune {

// One configuration compiled (no sizes: one cubin serves every problem size).
struct CompiledKernel {
  Config config;
  std::string arch;            // "sm_90", "sm_90a"
  std::string cubin;           // ELF bytes, for cuLibraryLoadData / cuModuleLoadData
  std::string entry;           // the lowered symbol, for cuLibraryGetKernel / cuModuleGetFunction
  bool from_cache = false;     // answered by the cubin cache
  double compile_seconds = 0;  // NVRTC time in the worker (0 for a cache hit)
  std::string log;             // NVRTC's log (warnings)
};

struct LaunchDims {
  std::array<std::int64_t, 3> grid{1, 1, 1};
  std::array<std::int64_t, 3> block{1, 1, 1};
  std::int64_t dynamic_shared_bytes = 0;  // > 48 KiB needs cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)
};

// The tuned configuration of a kernel at some sizes, ready to launch.
struct KernelBinary {
  store::LookupRule rule = store::LookupRule::none;  // which lookup rule chose the configuration (none: the default)
  CompiledKernel kernel;
  LaunchDims launch;
};

}  // namespace ktune
