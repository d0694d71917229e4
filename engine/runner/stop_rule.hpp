#pragma once
// When a measurement stops (DESIGN.md decision 6, like nvbench): the plain options behind the
// runner's stop and prune criteria (engine/runner/criteria/, engine/runner/statistics.hpp), on
// their own so the public tuning options (engine/tune_options.hpp) can carry them without the
// rest of the runner.
#include <cstddef>

namespace ktune::runner {

struct StopRule {
  friend bool operator==(const StopRule&, const StopRule&) = default;
  std::size_t min_samples = 10;
  std::size_t max_samples = 1000;
  double max_noise = 0.01;        // relative stddev
  double budget_seconds = 0.5;    // wall time per configuration, warm-up excluded
  std::size_t prune_after = 3;    // samples before the hopeless check
  double prune_factor = 1.5;      // hopeless: the fastest sample is this much slower than the best median
};

}  // namespace ktune::runner
