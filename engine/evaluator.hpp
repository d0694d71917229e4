#pragma once
// Something that turns configurations into measurements: the GPU pipeline (compile pool ∥ GPU
// runner) or a replay of recorded measurements. Tuning sessions and strategies see only this.
#include <functional>
#include <optional>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/evaluation.hpp"

namespace ktune {


class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Evaluates every configuration of the batch, calling `on_result` once per configuration as it
  // finishes (in any order, on the calling thread). `best_cost` (the best so far by the spec's
  // objective, engine/model/objective.hpp: a time when ranking by time) lets hopeless ones stop early.
  virtual void evaluate(const std::vector<Config>& batch, std::optional<double> best_cost,
                        const std::function<void(Evaluation)>& on_result) = 0;
  // Measures the finalists side by side (A B C A B C ...); empty where that means nothing (replay).
  virtual std::vector<Evaluation> remeasure(const std::vector<Config>& finalists) = 0;
  // Evaluations the evaluator made on its own while it was set up (the GPU pipeline measures the
  // verification reference first). A tuning session records them like any other, once.
  virtual std::vector<Evaluation> setup_evaluations() const { return {}; }
};

}  // namespace ktune
