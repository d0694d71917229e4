#pragma once
// When a measurement stops (DESIGN.md decision 6, like nvbench): the plain options behind the
// runner's stop and prune criteria (engine/runner/criteria/, engine/runner/statistics.hpp), on
// their own so the public tuning options (engine/tune_options.hpp) can carry them without the
// rest of the runner.
#include <cstddef>

namespace ktune::runner {

// The precision asked of a measurement is the precision of what configurations are ranked on,
// the median: its standard error shrinks with √n while the spread of single samples does not
// (L2-cold samples of a 40 µs kernel spread by 2-5 % however many are taken, which kept the
// old rule on "relative stddev ≤ 1 %" sampling to its cap). Sampling time is budgeted in
// proportion to the kernel's own time (issue #13: at most 3 ms + 20 kernel times per configuration).
struct StopRule {
  friend bool operator==(const StopRule&, const StopRule&) = default;
  std::size_t min_samples = 10;
  std::size_t max_samples = 1000;
  double max_standard_error = 0.005;   // of the median, relative to it
  // Sampling time per configuration (warm-up excluded): floor + kernel_times × the kernel's
  // median, and never more than budget_seconds.
  double budget_floor_seconds = 0.0015;
  double budget_kernel_times = 15;
  double budget_seconds = 0.5;
  std::size_t prune_after = 3;    // samples before the hopeless check
  double prune_factor = 1.5;      // hopeless: the fastest sample is this much slower than the best median
  // Racing: after race_after samples, a configuration whose median is slower than the best so far
  // by more than race_margin with confidence (3 standard errors) is ranked and stops. Not below
  // race_min_best_ns: kernels of ~1 µs drift by 5-10 % over their first samples on the H200
  // (tests/data/sample-streams-h200.jsonl), enough to outrank the winner, and their sampling
  // costs little anyway (an L2 flush per sample).
  std::size_t race_after = 5;
  double race_margin = 0.01;
  double race_min_best_ns = 5000;

  // The sampling budget of a kernel whose median is median_ns.
  double budget_for(double median_ns) const noexcept {
    const double proportional = budget_floor_seconds + budget_kernel_times * median_ns * 1e-9;
    return proportional < budget_seconds ? proportional : budget_seconds;
  }
};

}  // namespace ktune::runner
