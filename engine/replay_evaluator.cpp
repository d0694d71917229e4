#include "engine/replay_evaluator.hpp"

#include <thread>

namespace ktune {

Result<std::unique_ptr<ReplayEvaluator>> ReplayEvaluator::from_store(store::Store& recorded, const TuningQuestion& question) {
  auto out = std::make_unique<ReplayEvaluator>();
  for (const std::string& key : {question.unrecorded_inputs_measurement_key(), question.measurement_key()}) {
    auto measurements = recorded.measurements_of(key);
    if (!measurements) return measurements.error();
    for (auto& m : *measurements) out->recorded_.insert_or_assign(m.config, m);
  }
  const std::string tuning_key = question.tuning_record().tuning_key;
  if (out->recorded_.empty()) {
    auto measurements = recorded.measurements_for(tuning_key);
    if (!measurements) return measurements.error();
    for (auto& m : *measurements) out->recorded_.insert_or_assign(m.config, m);
  }
  if (out->recorded_.empty())
    return make_error(Errc::not_found, "no recorded measurements for tuning key " + tuning_key + " in " + recorded.path().string());
  return out;
}

void ReplayEvaluator::evaluate(const std::vector<Config>& batch, std::optional<double>,
                               const std::function<void(Evaluation)>& on_result) {
  for (const auto& config : batch) {
    if (simulated_cost_.count() > 0) std::this_thread::sleep_for(simulated_cost_);
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
