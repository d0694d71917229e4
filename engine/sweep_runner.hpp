#pragma once
// Running a sweep (engine/sweep.hpp: many kernels x many sizes) to the end: every run goes to
// whichever lane is free next — one Engine per GPU, all writing one store — and comes back as a
// per-run result plus totals. Resumable without bookkeeping of its own: a run the lookup table
// already answers is "done earlier" (unless `force`), and a run killed half-way restarts with
// every configuration it measured answered from the store. `ktune sweep` only parses options and
// formats what this returns.
//
//   auto plan = ktune::load_sweep("sweep.json").value_or_throw();
//   auto runner = ktune::SweepRunner::create({.gpus = {0, 1}}).value_or_throw();
//   ktune::SweepResult result = runner->run(plan);
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sweep.hpp"

namespace ktune {

// Something that tunes one run at a time: an Engine on one GPU, or recorded measurements
// (tests, what-ifs on a CPU). A lane is used by one thread at a time.
class SweepLane {
 public:
  virtual ~SweepLane() = default;
  virtual Result<TuneOutcome> tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) = 0;
};

struct SweepOptions {
  std::filesystem::path store_path;  // empty: $KTUNE_DB or ~/.cache/ktune/ktune.db
  bool scratch_store = false;        // EngineOptions::scratch_store
  std::vector<int> gpus{0};          // GPU ordinals, one Engine each
  std::size_t workers = 0;           // compile workers per Engine; 0: the machine's share per GPU
  // Replay a recording instead of running GPUs (EngineOptions::replay): one replaying Engine per
  // entry of `gpus`, for dry runs and tests of a sweep.
  std::optional<EngineOptions::Recording> replay;
};

// One tuning run: an item's spec at one size set.
struct SweepRun {
  std::size_t index = 0;  // the run's place in plan order (items, then size sets)
  std::size_t item = 0;  // index into plan.items
  const KernelSpec* spec = nullptr;  // points into the plan
  Sizes sizes;
  std::string strategy;
  std::size_t lane = 0;  // which lane (GPU) ran it
  std::optional<TuneOutcome> outcome;
  std::string error;  // the run failed (the sweep went on); empty when outcome is set
  double wall_seconds = 0;

  bool failed() const noexcept { return !outcome; }
  bool done_earlier() const noexcept { return outcome && outcome->answered_from_lookup; }
};

struct SweepTotals {
  std::size_t runs = 0, tuned_now = 0, done_earlier = 0, failed = 0;
  std::size_t evaluated = 0;   // configurations run by the runs tuned now
  std::size_t from_store = 0;  // answered from earlier measurements (an interrupted earlier sweep)
  double gpu_seconds = 0;
  double wall_seconds = 0;
};

// The totals of these runs (wall_seconds is left 0: the caller timed the sweep).
SweepTotals sum_totals(const std::vector<SweepRun>& runs);

struct SweepResult {
  std::vector<SweepRun> runs;  // plan order (items, then size sets), whatever order they finished in;
                               // only the runs chosen by SweepRunOptions::runs
  SweepTotals totals;
};

struct SweepRunOptions {
  bool force = false;  // tune every run again, even those the lookup table answers
  // Plan-order indexes of the runs to tune (a shard: engine/sweep_schedule.hpp); unset: every run.
  std::optional<std::vector<std::size_t>> runs;
  // Called from the lane's thread; on_run_done calls are serialised and count finished runs.
  std::function<void(const SweepRun&)> on_run_start;
  std::function<void(const SweepRun&, const TuneProgress&)> on_progress;
  std::function<void(const SweepRun&, std::size_t finished, std::size_t total)> on_run_done;
};

class SweepRunner {
 public:
  // One Engine per GPU of options.gpus over one store; starts each runner to learn its device.
  // Errors: Errc::no_gpu where there is no GPU, the store's errors.
  static Result<std::unique_ptr<SweepRunner>> create(const SweepOptions& options);
  // Over lanes made by the caller; `devices` and `store_path` only describe them.
  SweepRunner(std::vector<std::unique_ptr<SweepLane>> lanes, std::vector<DeviceSignature> devices,
              std::filesystem::path store_path);

  const std::vector<DeviceSignature>& devices() const noexcept { return devices_; }  // one per lane
  const std::filesystem::path& store_path() const noexcept { return store_path_; }
  std::size_t lanes() const noexcept { return lanes_.size(); }

  // Every run of the plan (or options.runs), spread over the lanes. A failed run is a result, not
  // an error. Throws std::out_of_range for an index in options.runs beyond the plan.
  SweepResult run(const SweepPlan& plan, const SweepRunOptions& options = {});

 private:
  std::vector<std::unique_ptr<SweepLane>> lanes_;
  std::vector<DeviceSignature> devices_;
  std::filesystem::path store_path_;
};

}  // namespace ktune
