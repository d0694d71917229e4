#pragma once
// One tuning run: a strategy proposes batches, configurations already measured for this question
// are answered from the store (they cost nothing and are never run twice), the rest go to the
// evaluator, every result is persisted as it arrives, the finalists are re-measured side by side,
// and the winner is written to the lookup table.
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/evaluator.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"
#include "tuner/strategy.hpp"

namespace ktune {

struct TuneLimits {
  std::size_t max_evaluations = 0;  // new evaluations (store answers are free); 0 = no limit
  double max_seconds = 0;           // 0 = no limit
  std::size_t finalists = 3;        // re-measured side by side before a winner is declared
};

struct TuneProgress {
  std::size_t evaluated = 0;  // this run, store answers included
  std::size_t planned = 0;    // configurations proposed so far
  std::size_t valid = 0;      // size of the valid space
  std::optional<double> best_ns;
  Config best;
  double elapsed_seconds = 0;
  double gpu_seconds = 0;
};

struct TuneReport {
  std::string strategy;
  Config best;
  double best_ns = 0;
  std::optional<double> default_ns;
  std::size_t evaluated = 0;       // configurations run in this session
  std::size_t from_store = 0;      // answered from earlier measurements
  std::map<std::string, std::size_t> by_status;  // "ok", "compile_error", ...
  double wall_seconds = 0;
  double compile_seconds = 0;  // summed NVRTC time in the workers
  double gpu_seconds = 0;      // summed runner time
  double gpu_busy_fraction() const { return wall_seconds > 0 ? gpu_seconds / wall_seconds : 0; }
  bool remeasured = false;     // finalists were measured side by side
};

struct TuneHooks {
  std::function<void(const TuneProgress&)> on_progress;
  std::function<void(const Evaluation&)> on_evaluation;
};

// `persist` false (replay) reads the store but writes nothing.
Result<TuneReport> run_tuning(const TuningQuestion& question, const SearchSpace& space, Strategy& strategy, Evaluator& evaluator,
                              store::Store* store, const TuneLimits& limits, const TuneHooks& hooks = {},
                              const std::optional<Evaluation>& preexisting = std::nullopt, bool persist = true);

}  // namespace ktune
