#pragma once
// What a compile worker is asked to do and what it answers. A compile error is an ordinary result
// carrying NVRTC's log; only the pool-side classes (timeout, crash, out_of_memory, cancelled) say
// that the worker itself failed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ktune::workers {

struct CompileJob {
  std::string source;                   // CUDA C++ text
  std::string source_name = "kernel.cu";  // appears in the compile log and __FILE__
  // Kernels to look up after compiling: "sgemm<64, 64>" for templates, or a plain entry name
  // ("sgemm"), which NVRTC lowers to its mangled (or extern "C") symbol.
  std::vector<std::string> name_expressions;
  std::vector<std::string> options;  // extra NVRTC options: "-std=c++17", "-I/path", ...
  std::vector<std::string> defines;  // "-DBM=64" or "BM=64" (a missing -D is added)
  std::string arch = "sm_90";        // "sm_90", "sm_90a", ...: always compiled to CUBIN
  // NVRTC 13's driver-side disk cache (~/.nv/ComputeCache). Off = "--no-cache". It cannot change
  // the output, so it is not part of the cubin key.
  bool use_nvrtc_cache = true;
  // Precompile the source's header prefix once per worker and reuse it (workers/precompiled_headers.hpp);
  // the engine sets it for specs that name a header package. Only where the pool has a PCH folder.
  // It cannot change the output either: not part of the cubin key.
  bool use_pch = false;
};

enum class CompileStatus : std::uint8_t {
  ok = 0,
  compile_error = 1,  // NVRTC rejected the source or an option; see log
  timeout = 2,        // the worker ran past the job timeout and was killed
  crash = 3,          // the worker died (signal or unexpected exit), also on the retry
  out_of_memory = 4,  // the worker hit its memory limit (or was killed by the OOM killer)
  internal = 5,       // NVRTC failed in a way that is not the source's fault, or no worker could start
  cancelled = 6,      // the pool shut down before the job finished
};
inline constexpr std::uint8_t kLastCompileStatus = 6;

const char* compile_status_name(CompileStatus status) noexcept;

struct CompileResult {
  CompileStatus status = CompileStatus::internal;
  std::string cubin;                      // ELF bytes when ok
  std::vector<std::string> lowered_names;  // one per job name expression, same order
  std::string log;                        // NVRTC's log, or what happened to the worker
  double compile_seconds = 0.0;           // NVRTC time inside the worker (0 for a cache hit)
  // Filled by the pool, not carried over the wire:
  bool from_cache = false;
  int attempts = 0;  // worker runs used (2 after a crash retry; 0 for a cache hit)

  bool ok() const noexcept { return status == CompileStatus::ok; }
};

}  // namespace ktune::workers
