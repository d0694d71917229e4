#pragma once
// The library API: what a compiler links. One Engine owns the store, the compile pool and the GPU
// runner, and answers lookup (never tunes) and tune (lookup, then on a miss: compile ∥ benchmark,
// refine, persist).
//
//   auto engine = ktune::Engine::create({}).value_or_throw();     // store in ~/.cache/ktune
//   auto spec = ktune::KernelSpec::from_file("sgemm.json").value_or_throw();
//   auto outcome = engine->tune(spec, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, {}).value_or_throw();
//   use(outcome.report.best);
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "engine/runner/statistics.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "engine/tuning_session.hpp"
#include "store/lookup.hpp"

namespace ktune {

struct EngineOptions {
  std::filesystem::path store_path;       // empty: --db / $KTUNE_DB / ~/.cache/ktune/ktune.db
  std::size_t workers = 0;                // compile workers; 0: min(cores, 32)
  int device = 0;                         // GPU ordinal
  std::filesystem::path cubin_cache_dir;  // empty: next to the store's default folder
  bool use_cubin_cache = true;
  bool use_nvrtc_cache = true;
};

struct TuneOptions {
  std::string strategy = "coordesc";  // exhaustive | random | coordesc
  TuneLimits limits;
  std::size_t random_count = 64;   // configurations tried by `random`
  std::size_t random_starts = 0;   // coordesc: random configurations tried besides the start point
  bool refine = false;             // coordesc from the lookup table's answer (e.g. an imported table)
  bool force = false;              // tune even when the lookup table has an exact answer
  bool flush_l2 = true;            // cold-cache samples
  bool use_cupti = true;           // false: CUDA events (for comparing the timers)
  runner::StopRule rule;
  std::uint64_t seed = 1;
  std::string arch;                // compile for this instead of the GPU's
  TuneHooks hooks;
};

struct TuneOutcome {
  TuneReport report;
  DeviceSignature device;
  std::string arch;
  bool answered_from_lookup = false;  // an exact answer existed; nothing was run
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

  // The GPU this engine tunes on (starts the runner). Errc::no_gpu where there is none.
  Result<DeviceSignature> device();

  // Never tunes. The answer says which rule matched (exact, nearest size, same arch, none).
  Result<store::LookupAnswer> lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device);

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

  const std::filesystem::path& store_path() const noexcept;

  struct State;

 private:
  explicit Engine(std::unique_ptr<State> state);
  Result<TuneOutcome> tune_now(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options);
  Result<Evaluation> measure_now(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options);
  std::unique_ptr<State> state_;
};

}  // namespace ktune
