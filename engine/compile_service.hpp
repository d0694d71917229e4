#pragma once
// Compiling configurations of a spec to CUBIN without a GPU: the content-addressed cubin cache in
// front of a pool of spawned ktune-worker processes (crash-isolated NVRTC). One object owns both,
// so the Engine and `ktune compile` wire them the same way (cache folder, worker count, timeout).
//
//   auto service = ktune::CompileService::create({}).value_or_throw();
//   service->compile(spec, config, "sm_90", true, [](ktune::CompileOutcome c) { ... });
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"

namespace ktune {

namespace workers {
class CompilePool;
}

struct CompileServiceOptions {
  std::size_t workers = 0;                       // worker processes; 0: min(cores, 32)
  std::filesystem::path worker_executable;       // empty: workers::worker_search()
  bool use_cubin_cache = true;                   // false: neither read nor write the cubin cache
  std::filesystem::path cubin_cache_dir;         // empty: ~/.cache/ktune/cubins (next to the store)
  std::chrono::milliseconds job_timeout{60'000};  // per configuration; the worker is killed past it
  // Precompiled headers for jobs that allow them (specs naming a header package): each worker
  // precompiles a spec's header prefix once (docs/workers.md). Off by default: for CUTLASS the
  // headers are a small part of a configuration's compile (docs/benchmarks.md "CUTLASS compiles").
  // Folder empty: ~/.cache/ktune/pch.
  bool use_pch = false;
  std::filesystem::path pch_dir;
  // A worker idle this long exits and is started again on demand; 0 keeps workers (the CLI's
  // choice: it lives for one command). The Engine sets EngineLifecycle::worker_idle_timeout.
  std::chrono::milliseconds worker_idle_timeout{0};
  // A worker that has not said hello by then is killed: the smaller of this and job_timeout, so
  // `ktune compile --timeout 2` never waits 30 s for a worker that will never answer.
  std::chrono::milliseconds startup_timeout{30'000};
};

// What became of one configuration (the cubin itself stays with the cache and the evaluator).
struct CompileOutcome {
  bool ok = false;
  std::string status;  // "ok", "compile_error", "timeout", "crash", "out_of_memory", "internal", "cancelled"
  std::string log;     // NVRTC's log, or what happened to the worker
  double compile_seconds = 0;  // NVRTC time in the worker (0 for a cache hit)
  bool from_cache = false;
  bool compiler_crashed() const { return status == "crash"; }
};

class CompileService {
 public:
  static Result<std::unique_ptr<CompileService>> create(const CompileServiceOptions& options = {});
  ~CompileService();  // stops the workers
  CompileService(const CompileService&) = delete;
  CompileService& operator=(const CompileService&) = delete;

  // Compiles one configuration; `on_done` runs once, on a pool thread, when it is compiled or
  // answered from the cubin cache.
  void compile(const KernelSpec& spec, const Config& config, const std::string& arch, bool use_nvrtc_cache,
               std::function<void(CompileOutcome)> on_done);
  void warm();
  // Starts every worker and waits for its hello (up to the startup timeout and a margin): the
  // first worker's reason when one cannot start (missing, silent, from another build).
  Status wait_ready();      // start every worker now, without waiting (while the GPU initialises)
  void shutdown();  // finishes nothing new; pending compiles come back "cancelled"

  std::size_t workers() const noexcept;
  const std::string& nvrtc_version() const noexcept;
  bool caches_cubins() const noexcept;
  // The pool itself, for the GPU evaluator's compile ∥ benchmark pipeline.
  workers::CompilePool& pool() noexcept;

  static std::size_t default_worker_count();  // min(cores, 32)

  struct Parts;

 private:
  explicit CompileService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace ktune
