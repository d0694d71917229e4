#pragma once
// The stop rule (DESIGN.md decision 6, revised by issue #13): at most `max_samples`; after
// `min_samples`, stop once the median's relative standard error is at most `max_standard_error`
// or the sampling budget for this kernel's length is spent (StopRule::budget_for); and never let
// a slow kernel run far past the budget just to reach min_samples (4x the budget with at least 3
// samples).
#include <vector>

#include "engine/runner/criteria/criterion.hpp"

namespace ktune::runner {

class StopRuleCriterion final : public Criterion {
 public:
  explicit StopRuleCriterion(const StopRule& rule) : rule_(rule) {}

  void initialize() override {
    samples_.clear();
    decision_ = StopDecision::keep_going;
  }
  void add_measurement(double sample_ns) override { samples_.push_back(sample_ns); }
  bool is_finished(double elapsed_seconds) const override;
  StopDecision decision() const noexcept override { return decision_; }

 private:
  StopRule rule_;
  std::vector<double> samples_;
  mutable StopDecision decision_ = StopDecision::keep_going;  // the reason is_finished last found
};

}  // namespace ktune::runner
