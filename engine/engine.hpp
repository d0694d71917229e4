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
#include <memory>
#include <optional>
#include <string>

#include "engine/bench/statistics.hpp"
#include "engine/key.hpp"
#include "engine/spec.hpp"
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
  bench::StopRule rule;
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
  Result<TuneOutcome> tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options);

  // Measures one configuration (verified against the spec's reference) and records it.
  Result<Evaluation> measure(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options);

  const std::filesystem::path& store_path() const noexcept;

  struct State;

 private:
  explicit Engine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ktune
