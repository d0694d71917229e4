#pragma once
// The library API: what a compiler links. One Engine owns the store, the compile pool and the GPU
// runner, and answers lookup (never tunes) and tune (lookup, then on a miss: compile ∥ benchmark,
// refine, persist).
//
//   auto engine = ktune::Engine::create({}).value_or_throw();     // store in ~/.cache/ktune
//   auto spec = ktune::KernelSpec::from_file("sgemm.json").value_or_throw();
//   auto outcome = engine->tune(spec, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, {}).value_or_throw();
//   use(outcome.report.best);
//
// Inside a compiler: keep a PreparedKernel per kernel for sub-microsecond lookups, ask binary()
// for the tuned cubin and its launch geometry, and let EngineLifecycle give processes and GPU
// memory back when idle (docs/ARCHITECTURE.md, "An engine inside a long-running process").
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "engine/engine_counters.hpp"
#include "engine/kernel_binary.hpp"
#include "engine/lookup_table.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "engine/prepared_kernel.hpp"
#include "engine/tune_options.hpp"
#include "store/lookup.hpp"

namespace ktune {

// How an engine lives inside a long-running process (a compiler, a training job): what it starts
// at once, and what it gives back when idle. The defaults suit an embedded engine: nothing is
// started before it is needed, and an engine that tuned a few kernels at start-up holds no worker
// process after 30 s and no GPU memory after 60 s. Everything is started again on demand.
struct EngineLifecycle {
  // Start the compile workers and (on a GPU) the runner in Engine::create, without waiting;
  // Engine::wait_ready waits for them.
  bool warm_start = false;
  // A compile worker idle this long exits; 0 keeps workers for the engine's life.
  std::chrono::milliseconds worker_idle_timeout{30'000};
  // The GPU runner idle this long exits (its CUDA context and all its GPU memory go with it);
  // 0 keeps it for the engine's life.
  std::chrono::milliseconds runner_idle_timeout{60'000};
  // After each tune or measure request the runner frees the problem's buffers (inputs, outputs,
  // their pristine copies); false keeps them until the next problem replaces them.
  bool runner_frees_problem = true;
};

struct EngineOptions {
  std::filesystem::path store_path;       // empty: --db / $KTUNE_DB / ~/.cache/ktune/ktune.db
  // The store is thrown away after use (an MPI rank's own store): its commits are not synced to
  // disk (store::StoreOptions::durable).
  bool scratch_store = false;
  std::size_t workers = 0;                // compile workers; 0: min(cores, 32)
  int device = 0;                         // GPU ordinal
  std::filesystem::path cubin_cache_dir;  // empty: next to the store's default folder
  bool use_cubin_cache = true;
  bool use_nvrtc_cache = true;
  // The helper processes, by explicit path (a Python package bundles them in its own folder);
  // empty: found by process::locate_executable ($KTUNE_WORKER / $KTUNE_RUNNER, next to the program
  // or to libktune, the install bindir). A path given is the only place looked at.
  std::filesystem::path worker_executable;
  std::filesystem::path runner_executable;
  // Measure by replaying a recording (a store holding earlier measurements of that device and
  // toolchain) instead of running a GPU: nothing is compiled or launched. For strategy studies, dry
  // runs of sweeps and tests of everything above the measurement; every decision (lookup, merging,
  // resuming, persisting) is the real engine's.
  struct Recording {
    std::filesystem::path store;
    DeviceSignature device;
    Toolchain toolchain;
    // Each configuration answered from the recording first waits this long, standing in for the
    // compile and benchmark a GPU would spend on it, so schedules over many runs (a sweep on
    // several lanes, shards, MPI ranks) can be timed on a CPU. Zero: answered at once.
    std::chrono::microseconds simulated_cost{0};
  };
  std::optional<Recording> replay;
  EngineLifecycle lifecycle;
};


struct TuneOutcome {
  TuneReport report;
  DeviceSignature device;
  std::string arch;
  bool answered_from_lookup = false;  // an exact answer existed; nothing was run
  std::string tuning_key;  // the lookup-table row of this question (StoreFile::extract copies its records)
};

// The progressive answer of Engine::get (the compile_fx_async idea): usable at once with the best
// known configuration, and moved to the tuned one when background tuning finishes.
class TunedConfig {
 public:
  Config config() const;                    // the best configuration known right now
  bool tuned() const;                       // the background tuning has finished successfully
  std::string source() const;               // "exact", "nearest_size", "same_arch", "default", "tuned"
  // Waits for the background tuning; its error (e.g. no GPU) if it failed. The handle keeps
  // answering config() with what it had either way.
  Status wait() const;

  struct Shared;
  explicit TunedConfig(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

 private:
  std::shared_ptr<Shared> shared_;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Every call on an engine from a fork()ed child of the process that created it fails at once
  // with Errc::unsupported (the workers, the runner, the threads and the database connection are
  // the parent's); the child creates an engine of its own. Destroying the inherited engine in the
  // child touches none of the parent's processes and waits for nothing.

  // Waits until what warm_start (or earlier calls) started is ready: every compile worker said
  // hello, and the runner is up. The error says what could not start (e.g. Errc::no_gpu).
  Status wait_ready(std::chrono::milliseconds timeout);
  // Stops the compile workers and the runner and refuses new compiles, tunings and measurements
  // (lookups keep working); queued requests fail at once, pending compile_async/binary jobs come
  // back cancelled. A tuning already running is finished, not cut short (its remaining
  // configurations would be recorded as failed). Returns within `timeout` (+ the runner's 2 s exit
  // grace), with an error when that tuning was still running: the workers and the runner then stop
  // when it ends. The destructor waits for everything.
  Status shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The GPU this engine tunes on (starts the runner once; remembered for the engine's life, also
  // after the runner exits idle). Errc::no_gpu where there is none.
  Result<DeviceSignature> device();

  // Never tunes. The answer says which rule matched (exact, nearest size, same arch, none).
  // Computes the spec's keys on every call (tens of microseconds); hot paths use a PreparedKernel.
  Result<LookupAnswer> lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device);
  // The hot path: the prepared kernel's keys are computed once per (sizes, device), the store's
  // in-memory tier answers (docs/benchmarks.md: well under a microsecond). Without a device, this
  // engine's (the recording's, or the GPU's: starts the runner the first time).
  Result<LookupAnswer> lookup(const PreparedKernel& kernel, const Sizes& sizes, const DeviceSignature& device);
  Result<LookupAnswer> lookup(const PreparedKernel& kernel, const Sizes& sizes);

  // Blocks until tuned (or answered from the lookup table, unless options.force/refine).
  // Thread-safe; requests run one at a time (the GPU is one resource), and a request identical to
  // one already in flight (same kernel, sizes and options) waits for that one instead of tuning
  // again.
  Result<TuneOutcome> tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options);
  // The same on a background thread; the spec is copied, so the caller's may go away.
  std::shared_future<Result<TuneOutcome>> tune_async(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options);
  // Answers at once (lookup on this engine's GPU, else the spec's default) and tunes in the
  // background; the handle moves to the tuned configuration when it is ready.
  TunedConfig get(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options = {});

  // Measures one configuration (verified against the spec's reference) and records it.
  Result<Evaluation> measure(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options);

  // The tuned configuration's cubin and launch geometry at these sizes, so a compiler launches
  // what was tuned: the lookup table's answer (any rule; the spec's default when nothing is
  // tuned) compiled through the cubin cache and the pool. `device` chooses the answer and the
  // architecture; without it, this engine's device.
  Result<KernelBinary> binary(const KernelSpec& spec, const Sizes& sizes, std::optional<DeviceSignature> device = {});
  // Compiles one configuration in the background (the AsyncCompile use: submit every kernel,
  // keep generating code, collect the futures). `arch` empty: this engine's device's.
  std::shared_future<Result<CompiledKernel>> compile_async(const KernelSpec& spec, const Config& config,
                                                           const std::string& arch = {});

  EngineCounters counters() const;

  const std::filesystem::path& store_path() const noexcept;

  struct State;

 private:
  explicit Engine(std::unique_ptr<State> state);
  Result<TuneOutcome> tune_now(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options);
  Result<Evaluation> measure_now(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options);
  std::unique_ptr<State> state_;
};

}  // namespace ktune
