#include "engine/runner/criteria/stop_rule_criterion.hpp"

namespace ktune::runner {

bool StopRuleCriterion::is_finished(double elapsed_seconds) const {
  const std::size_t n = samples_.size();
  decision_ = StopDecision::keep_going;
  if (n >= rule_.max_samples) {
    decision_ = StopDecision::max_samples;
  } else if (n >= 3) {
    const SampleStats stats = summarize(samples_);
    const double budget = rule_.budget_for(stats.median_ns);
    if (n >= rule_.min_samples && stats.relative_standard_error() <= rule_.max_standard_error)
      decision_ = StopDecision::converged;
    else if (n >= rule_.min_samples && elapsed_seconds >= budget)
      decision_ = StopDecision::budget_spent;
    else if (elapsed_seconds >= 4 * budget)
      decision_ = StopDecision::budget_spent;
  }
  return decision_ != StopDecision::keep_going;
}

}  // namespace ktune::runner
