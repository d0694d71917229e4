#pragma once
// A rule that decides when sampling one configuration ends (nvbench's stopping_criterion_base):
// the runner initialises one set of criteria per configuration, hands each kept sample to every
// criterion, and asks them in order after every batch; the first that is finished ends sampling
// with its decision. New rules (the measurement-speed work) plug in as new criteria.
#include <memory>
#include <vector>

#include "engine/runner/statistics.hpp"

namespace ktune::runner {

class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual void initialize() = 0;  // forget every sample: a new configuration starts
  virtual void add_measurement(double sample_ns) = 0;
  // elapsed_seconds: the sampling time charged to this configuration so far (warm-up excluded).
  virtual bool is_finished(double elapsed_seconds) const = 0;
  // Why sampling ends; only meaningful once is_finished() said so.
  virtual StopDecision decision() const noexcept = 0;
};

using Criteria = std::vector<std::unique_ptr<Criterion>>;

// A StopRule as criteria, in the order they are asked: with a best median known, the prune rule
// (hopeless from its fastest sample) and the race (confidently slower), then the stop rule.
Criteria make_criteria(const StopRule& rule, std::optional<double> best_median_ns);

// The first finished criterion's decision, or keep_going.
StopDecision evaluate(const Criteria& criteria, double elapsed_seconds);

}  // namespace ktune::runner
