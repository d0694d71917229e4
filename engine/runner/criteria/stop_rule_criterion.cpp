#include "engine/runner/criteria/stop_rule_criterion.hpp"

namespace ktune::runner {

bool StopRuleCriterion::is_finished(double elapsed_seconds) const {
  const std::size_t n = samples_.size();
  if (n >= rule_.max_samples)
    decision_ = StopDecision::max_samples;
  else if (n >= rule_.min_samples && summarize(samples_).noise <= rule_.max_noise)
    decision_ = StopDecision::converged;
  else if (n >= rule_.min_samples && elapsed_seconds >= rule_.budget_seconds)
    decision_ = StopDecision::budget_spent;
  else if (n >= 3 && elapsed_seconds >= 4 * rule_.budget_seconds)
    decision_ = StopDecision::budget_spent;
  else
    decision_ = StopDecision::keep_going;
  return decision_ != StopDecision::keep_going;
}

}  // namespace ktune::runner
