#include "engine/runner/criteria/criterion.hpp"

#include "engine/runner/criteria/prune_criterion.hpp"
#include "engine/runner/criteria/race_criterion.hpp"
#include "engine/runner/criteria/stop_rule_criterion.hpp"

namespace ktune::runner {

Criteria make_criteria(const StopRule& rule, std::optional<double> best_median_ns) {
  Criteria criteria;
  if (best_median_ns) {
    criteria.push_back(std::make_unique<PruneCriterion>(rule, *best_median_ns));
    if (*best_median_ns >= rule.race_min_best_ns) criteria.push_back(std::make_unique<RaceCriterion>(rule, *best_median_ns));
  }
  criteria.push_back(std::make_unique<StopRuleCriterion>(rule));
  for (auto& c : criteria) c->initialize();
  return criteria;
}

StopDecision evaluate(const Criteria& criteria, double elapsed_seconds) {
  for (const auto& c : criteria)
    if (c->is_finished(elapsed_seconds)) return c->decision();
  return StopDecision::keep_going;
}

}  // namespace ktune::runner
