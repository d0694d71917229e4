#pragma once
// Running a strategy against recorded measurements (no GPU): how good its answer is and how many
// evaluations it needed, compared with the best recorded configuration. A study repeats a run with
// different seeds under a budget, as strategy comparisons do (Schoonhoven et al. 2022 report the
// mean fraction of the optimum at 100-200 evaluations).
#include <filesystem>
#include <memory>

#include "engine/engine.hpp"

namespace ktune {

namespace store {
class Store;
}
class SearchSpace;

struct ReplayReport {
  TuneReport run;                 // what the strategy found and what it evaluated
  std::size_t recorded = 0;       // configurations in the recording
  std::size_t valid = 0;          // configurations in the valid space at these sizes
  Config recorded_best;
  double recorded_best_ns = 0;
  double quality() const { return run.best_ns > 0 ? recorded_best_ns / run.best_ns : 0; }  // 1.0 = found the best
  // Of the valid space, not of the recording: what a search over this space would pay.
  double fraction_evaluated() const { return valid ? static_cast<double>(run.evaluated) / static_cast<double>(valid) : 0; }
};

// One strategy run `repeats` times with seeds seed, seed+1, ...: the fraction of the optimum each
// run reached (quality) and what it cost.
struct ReplayStudy {
  std::vector<ReplayReport> runs;
  double mean_quality() const;
  double min_quality() const;
  double max_quality() const;
  double mean_evaluated() const;
};

// A recording opened once (the measurements read, the valid space enumerated) and replayed as often
// as a study needs. Keeps a pointer to `spec`, which must outlive it.
class RecordedSpace {
 public:
  static Result<RecordedSpace> open(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                    const Toolchain& toolchain, store::Store& recorded);
  // The same from a recording on disk (a store file, opened read-only for the duration of open).
  static Result<RecordedSpace> open(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                    const Toolchain& toolchain, const std::filesystem::path& recording);

  // One run of options.strategy under options.limits (limits.max_evaluations is the budget). With a
  // budget, `random` samples exactly the budget, so strategies are compared at equal cost.
  Result<ReplayReport> run(const TuneOptions& options) const;
  // `repeats` runs with seeds options.seed, options.seed + 1, ...
  Result<ReplayStudy> study(const TuneOptions& options, std::size_t repeats) const;

  const SearchSpace& space() const noexcept;
  std::size_t recorded() const noexcept;
  const std::pair<Config, double>& recorded_best() const noexcept;

  struct State;  // the question, the valid space and the recorded measurements (engine/replay.cpp)

 private:
  explicit RecordedSpace(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            store::Store& recorded, const TuneOptions& options);
// The same from a recording on disk (a store file, opened read-only).
Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            const std::filesystem::path& recording, const TuneOptions& options);

// A recording on disk as an Engine replays it (EngineOptions::replay: `ktune sweep --replay`): the
// device, architecture and toolchain its measurements were taken on, read from the recording.
// `device` names one when it holds several (Errc::invalid_argument listing them otherwise);
// Errc::not_found for a missing file or one without measurements (of that device).
Result<EngineOptions::Recording> recording_at(const std::filesystem::path& recording, const std::string& device = {});

}  // namespace ktune
