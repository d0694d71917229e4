#pragma once
// What a caller asks of a tuning and what it gets back (public). TuneSettings is everything that
// changes what a tuning does — two requests with equal kernels, sizes and settings are the same
// request and are merged (engine/in_flight_requests.hpp); TuneHooks only observe, so they are kept
// apart and every waiter's hooks fire.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/evaluation.hpp"
#include "engine/runner/stop_rule.hpp"

namespace ktune {

struct TuneLimits {
  std::size_t max_evaluations = 0;  // new evaluations (store answers are free); 0 = no limit
  double max_seconds = 0;           // 0 = no limit
  std::size_t finalists = 3;        // re-measured side by side before a winner is declared
  friend bool operator==(const TuneLimits&, const TuneLimits&) = default;
};

// What a tuning uses when none is named: the strategy that reaches the optimum on every recorded
// space (docs/benchmarks.md, "Strategies on recorded spaces"; coordesc stalls on convolution spaces).
inline constexpr std::string_view kDefaultStrategy = "bestfirst";

struct TuneSettings {
  std::string strategy{kDefaultStrategy};  // exhaustive | random | coordesc | bestfirst (tuner/strategy_factory.hpp)
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
  friend bool operator==(const TuneSettings&, const TuneSettings&) = default;
};

struct TuneProgress {
  std::size_t evaluated = 0;   // run in this session (the same count as TuneReport::evaluated)
  std::size_t from_store = 0;  // answered from earlier measurements
  std::size_t planned = 0;     // configurations proposed so far
  std::size_t valid = 0;       // size of the valid space
  std::optional<double> best_ns;
  Config best;
  double elapsed_seconds = 0;
  double gpu_seconds = 0;
  std::size_t done() const { return evaluated + from_store; }  // of `planned`
};

struct TuneHooks {
  std::function<void(const TuneProgress&)> on_progress;
  std::function<void(const Evaluation&)> on_evaluation;
};

struct TuneOptions : TuneSettings {
  TuneHooks hooks;  // observers only: not part of what makes two requests the same
};

struct TuneReport {
  std::string strategy;
  Config best;
  double best_ns = 0;
  std::vector<double> best_stage_ns;  // a pipeline: each kernel's median in the best's measurement
  std::optional<double> default_ns;
  std::size_t evaluated = 0;       // configurations run in this session
  std::size_t from_store = 0;      // answered from earlier measurements
  std::map<std::string, std::size_t> by_status;  // "ok", "compile_error", ...
  double wall_seconds = 0;
  double compile_seconds = 0;  // summed NVRTC time in the workers
  double gpu_seconds = 0;      // summed runner time
  double gpu_busy_fraction() const { return wall_seconds > 0 ? gpu_seconds / wall_seconds : 0; }
  bool remeasured = false;     // finalists were measured side by side
  std::string verified_against;  // what outputs were checked against (KernelSpec::describe_reference)
  std::string objective = "time";  // what ranked the configurations: "time", or the maximised metric ("flops")
};

}  // namespace ktune
