#pragma once
// One tuning run: a strategy proposes batches, configurations the ledger already knows are answered
// from it (they cost nothing and are never run twice), the rest go to the evaluator, every result is
// committed as it arrives, the finalists are re-measured side by side, and the winner is written to
// the lookup table.
//
//   TuningSession session(question, space, *strategy, evaluator, ledger, options.limits, hooks);
//   Result<TuneReport> report = session.run();
#include <chrono>
#include <map>
#include <set>
#include <optional>

#include "engine/evaluator.hpp"
#include "engine/measurement_ledger.hpp"
#include "engine/model/objective.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/tune_options.hpp"
#include "tuner/strategy.hpp"

namespace ktune {

class TuningSession {
 public:
  TuningSession(const TuningQuestion& question, const SearchSpace& space, Strategy& strategy, Evaluator& evaluator,
                MeasurementLedger& ledger, TuneLimits limits, TuneHooks hooks = {});
  Result<TuneReport> run();

 private:
  using Clock = std::chrono::steady_clock;
  double elapsed() const;
  // A new evaluation: counted, remembered, committed, then announced (in that order).
  void record_new(Evaluation evaluation);
  // Keeps the best (by the objective) and the default's time up to date.
  void consider(const Config& config, std::optional<double> time_ns);
  // What the strategy and the ranking see: the objective's cost (the time, by time).
  std::optional<double> cost(const Config& config, std::optional<double> time_ns) const;
  // The batch less what the ledger answers (those are reported to the strategy at once).
  std::vector<Config> answer_known(std::vector<Config> batch);
  // Trims `to_run` to what the evaluation budget leaves; true when the budget is spent.
  bool apply_budget(std::vector<Config>& to_run) const;
  // Re-measures the fastest few of this session side by side, so a drift in clocks during the
  // search cannot pick the winner.
  void remeasure_finalists();
  Status persist_winner();

  const TuningQuestion& question_;
  const SearchSpace& space_;
  Strategy& strategy_;
  Evaluator& evaluator_;
  MeasurementLedger& ledger_;
  TuneLimits limits_;
  TuneHooks hooks_;
  Clock::time_point start_;
  TuneReport report_;
  TuneProgress progress_;
  RankingObjective objective_;
  std::optional<double> best_cost_;        // progress_.best's cost
  std::map<Config, double> measured_now_;  // costs of ok results of this session, for the finalists
  std::set<Config> evaluated_now_;         // everything this session evaluated, failures included
};

}  // namespace ktune
