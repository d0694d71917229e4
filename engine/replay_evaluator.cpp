#include "engine/replay_evaluator.hpp"

namespace ktune {

Result<std::unique_ptr<ReplayEvaluator>> ReplayEvaluator::from_store(store::Store& recorded, const std::string& tuning_key) {
  auto measurements = recorded.measurements_for(tuning_key);
  if (!measurements) return measurements.error();
  if (measurements->empty())
    return make_error(Errc::not_found, "no recorded measurements for tuning key " + tuning_key + " in " + recorded.path().string());
  auto out = std::make_unique<ReplayEvaluator>();
  for (auto& m : *measurements) out->recorded_.insert_or_assign(m.config, m);
  return out;
}

void ReplayEvaluator::evaluate(const std::vector<Config>& batch, std::optional<double>,
                               const std::function<void(Evaluation)>& on_result) {
  for (const auto& config : batch) {
    Evaluation e;
    auto it = recorded_.find(config);
    if (it == recorded_.end()) {
      e.measurement.config = config;
      e.measurement.status = store::MeasurementStatus::invalid_config;
      e.measurement.message = "not in the recorded measurements";
    } else {
      e.measurement = it->second;
    }
    on_result(std::move(e));
  }
}

std::optional<std::pair<Config, double>> ReplayEvaluator::best_recorded() const {
  std::optional<std::pair<Config, double>> best;
  for (const auto& [config, m] : recorded_)
    if (m.status == store::MeasurementStatus::ok && m.timing && (!best || m.timing->median_ns < best->second))
      best = {config, m.timing->median_ns};
  return best;
}

}  // namespace ktune
