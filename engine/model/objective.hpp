#pragma once
// What tuning ranks configurations by (the spec's "objective", docs/spec.md "Objective"), as one
// number where lower is better: the cost. By time, the cost is the median time. Maximising a
// metric (flops per second), it is the time scaled to one amount of work — the time the
// configuration would need for the default configuration's work, `t * work(default) / work(c)` —
// so it keeps the unit of a time (strategies' relative thresholds, racing and reports read it as
// one) and equals the time wherever the work does not depend on the configuration.
#include <optional>
#include <string>

#include "engine/model/spec.hpp"

namespace ktune {

class RankingObjective {
 public:
  RankingObjective() = default;  // by time
  // The spec's objective at these sizes (spec order, all given).
  RankingObjective(const KernelSpec& spec, Sizes sizes);

  bool by_time() const noexcept { return metric_ == nullptr; }
  // "time", or the maximised metric ("flops").
  std::string name() const;
  // Lower is better. nullopt where the work cannot be evaluated or is not positive (such a
  // configuration cannot be ranked: it never wins).
  std::optional<double> cost(const Config& config, double time_ns) const;
  // The time `config` would take at `cost` (the inverse of cost): what the runner races against.
  std::optional<double> time_at_cost(const Config& config, double cost) const;
  // The metric's amount per launch of `config` (flops), nullopt by time or where not evaluable.
  std::optional<double> work(const Config& config) const;

 private:
  const KernelSpec* spec_ = nullptr;
  const Expr* metric_ = nullptr;
  Sizes sizes_;
  double reference_work_ = 1;  // the default's work (1 where it cannot be evaluated)
};

}  // namespace ktune
