#pragma once
// Racing (issue #13, as in irace or successive halving): a configuration only needs enough
// samples to be ranked. Once its median is slower than the best median so far by more than
// `race_margin`, with three standard errors to spare, more samples cannot make it the winner, so
// sampling stops with StopDecision::outranked. Unlike pruning, the configuration keeps status ok
// and its (less precise) median: strategies still rank their neighbourhoods by it.
#include <cstddef>
#include <vector>

#include "engine/runner/criteria/criterion.hpp"

namespace ktune::runner {

class RaceCriterion final : public Criterion {
 public:
  RaceCriterion(const StopRule& rule, double best_median_ns) noexcept
      : race_after_(rule.race_after), threshold_ns_(best_median_ns * (1 + rule.race_margin)) {}

  void initialize() override { samples_.clear(); }
  void add_measurement(double sample_ns) override { samples_.push_back(sample_ns); }
  bool is_finished(double elapsed_seconds) const override;
  StopDecision decision() const noexcept override { return StopDecision::outranked; }

  // How many standard errors the median must clear the threshold by.
  static constexpr double kConfidenceZ = 3.0;

 private:
  std::size_t race_after_;
  double threshold_ns_;
  std::vector<double> samples_;
};

}  // namespace ktune::runner
