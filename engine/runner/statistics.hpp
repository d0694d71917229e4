#pragma once
// Sample statistics and the stopping rule of a measurement (DESIGN.md decision 6, like nvbench):
// take at least `min_samples`, stop once the median's standard error is under `max_standard_error` or the time
// budget is spent, and stop early when a configuration is clearly slower than the best so far.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "engine/runner/stop_rule.hpp"

namespace ktune::runner {

struct SampleStats {
  double median_ns = 0, min_ns = 0, mean_ns = 0, stddev_ns = 0;
  double noise = 0;  // stddev / mean
  // Standard error of the median, from its distribution-free confidence interval (order
  // statistics), so that neither a few outliers (a preempted launch) nor the ties of a coarse
  // timer (CUPTI ticks of 32 ns on a 1.2 µs kernel) distort it.
  double median_se_ns = 0;
  std::size_t samples = 0;
  double relative_standard_error() const noexcept { return median_ns > 0 ? median_se_ns / median_ns : 0.0; }
};

SampleStats summarize(std::span<const double> samples_ns);

// outranked: confidently slower than the best so far (racing), ranked without more samples.
enum class StopDecision { keep_going, converged, budget_spent, max_samples, pruned, outranked };
const char* stop_decision_name(StopDecision decision) noexcept;

// What the criteria built from `rule` (criteria/criterion.hpp) decide on a recorded sample stream.
StopDecision decide(std::span<const double> samples_ns, double elapsed_seconds, const StopRule& rule,
                    std::optional<double> best_median_ns);

}  // namespace ktune::runner
