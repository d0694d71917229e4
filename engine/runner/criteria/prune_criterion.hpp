#pragma once
// Stops a hopeless configuration early (DESIGN.md decision 6): after `prune_after` samples, when
// even the fastest sample is `prune_factor` times slower than the best median so far. The fastest
// sample is an optimistic estimate; if even it is far behind, more samples cannot make this
// configuration win.
#include <cstddef>
#include <limits>

#include "engine/runner/criteria/criterion.hpp"

namespace ktune::runner {

class PruneCriterion final : public Criterion {
 public:
  PruneCriterion(const StopRule& rule, double best_median_ns) noexcept
      : prune_after_(rule.prune_after), prune_factor_(rule.prune_factor), best_median_ns_(best_median_ns) {}

  void initialize() override {
    samples_ = 0;
    fastest_ns_ = std::numeric_limits<double>::infinity();
  }
  void add_measurement(double sample_ns) override {
    ++samples_;
    if (sample_ns < fastest_ns_) fastest_ns_ = sample_ns;
  }
  bool is_finished(double /*elapsed_seconds*/) const override {
    return samples_ >= prune_after_ && samples_ > 0 && fastest_ns_ > prune_factor_ * best_median_ns_;
  }
  StopDecision decision() const noexcept override { return StopDecision::pruned; }

 private:
  std::size_t prune_after_;
  double prune_factor_;
  double best_median_ns_;
  std::size_t samples_ = 0;
  double fastest_ns_ = std::numeric_limits<double>::infinity();
};

}  // namespace ktune::runner
