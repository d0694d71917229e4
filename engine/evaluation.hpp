#pragma once
// One evaluated configuration as the library reports it (to hooks, traces, `ktune bench`): what the
// store keeps, plus what the runner observed that the store does not keep (engine/measurement_record.hpp
// says which field goes where, and why).
#include <optional>
#include <string>

#include "engine/runner/measure_phases.hpp"
#include "store/records.hpp"

namespace ktune {

// Observed while measuring, reported, not persisted.
struct MeasurementDiagnostics {
  unsigned sm_clock_mhz = 0;         // SM clock while sampling (0: unknown)
  std::size_t dropped_samples = 0;   // taken while the GPU was throttled, left out of the statistics
  double noise = 0;                  // stddev / mean of the kept samples
  double max_abs_error = 0, max_rel_error = 0;  // against the verification reference
  int local_bytes = 0;               // local memory per thread (register spills)
  double relative_standard_error = 0;  // of the median, the statistic configurations are ranked on
  runner::MeasurePhases phases;      // where the runner's time went (gpu_seconds in total)
  std::string stop_reason;           // why sampling ended: converged, budget_spent, outranked, ...
};

struct Evaluation {
  store::Measurement measurement;  // config, status, timing, resources, compile time, message
  MeasurementDiagnostics diagnostics;
  double gpu_seconds = 0;          // time the GPU runner spent on it (load, verify, warm-up, samples)
  bool from_store = false;         // answered from earlier measurements, nothing was run
  std::optional<double> time_ns() const {
    if (measurement.status != MeasurementStatus::ok || !measurement.timing) return std::nullopt;
    return measurement.timing->median_ns;
  }
};

}  // namespace ktune
