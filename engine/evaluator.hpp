#pragma once
// Something that turns configurations into measurements: the GPU pipeline (compile pool ∥ GPU
// runner) or a replay of recorded measurements. Tuning sessions and strategies see only this.
#include <functional>
#include <optional>
#include <vector>

#include "engine/common/named_values.hpp"
#include "store/records.hpp"

namespace ktune {

struct Evaluation {
  store::Measurement measurement;  // config, status, timing, resources, compile time, message
  double gpu_seconds = 0;          // time the GPU runner spent on it (load, verify, warm-up, samples)
  bool from_store = false;         // answered from earlier measurements, nothing was run
  std::optional<double> time_ns() const {
    if (measurement.status != store::MeasurementStatus::ok || !measurement.timing) return std::nullopt;
    return measurement.timing->median_ns;
  }
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Evaluates every configuration of the batch, calling `on_result` once per configuration as it
  // finishes (in any order, on the calling thread). `best_ns` lets hopeless ones stop early.
  virtual void evaluate(const std::vector<Config>& batch, std::optional<double> best_ns,
                        const std::function<void(Evaluation)>& on_result) = 0;
  // Measures the finalists side by side (A B C A B C ...); empty where that means nothing (replay).
  virtual std::vector<Evaluation> remeasure(const std::vector<Config>& finalists) = 0;
};

}  // namespace ktune
