#include "engine/runner/criteria/race_criterion.hpp"

namespace ktune::runner {

bool RaceCriterion::is_finished(double /*elapsed_seconds*/) const {
  if (samples_.size() < race_after_ || samples_.size() < 3) return false;
  const SampleStats stats = summarize(samples_);
  return stats.median_ns - kConfidenceZ * stats.median_se_ns > threshold_ns_;
}

}  // namespace ktune::runner
