#pragma once
// Replays recorded measurements instead of running the GPU, so strategies can be tested and
// compared on a CPU with real data (e.g. an exhaustive H100 sweep shipped under tests/data).
#include <chrono>
#include <map>

#include "engine/evaluator.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"

namespace ktune {

class ReplayEvaluator final : public Evaluator {
 public:
  // The last recorded measurement of each configuration of what `question` measures (its
  // measurement keys, so a recording answers a question over another space of the same kernel);
  // a recording whose rows have no measurement key is read by the question's tuning key.
  static Result<std::unique_ptr<ReplayEvaluator>> from_store(store::Store& recorded, const TuningQuestion& question);
  // Every configuration evaluated from now on first waits `cost` (EngineOptions::Recording::simulated_cost).
  void simulate_cost(std::chrono::microseconds cost) noexcept { simulated_cost_ = cost; }

  void evaluate(const std::vector<Config>& batch, std::optional<double> best_ns,
                const std::function<void(Evaluation)>& on_result) override;
  std::vector<Evaluation> remeasure(const std::vector<Config>&) override { return {}; }

  std::size_t recorded() const noexcept { return recorded_.size(); }
  // The fastest recorded configuration: what an exhaustive search finds.
  std::optional<std::pair<Config, double>> best_recorded() const;

 private:
  std::map<Config, store::Measurement> recorded_;
  std::chrono::microseconds simulated_cost_{0};
};

}  // namespace ktune
