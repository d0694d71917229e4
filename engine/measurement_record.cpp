#include "engine/measurement_record.hpp"

#include <ctime>

#include "engine/version.hpp"
#include "workers/compile_log.hpp"

namespace ktune {

namespace {

MeasurementStatus from_compiler(workers::CompileStatus status) {
  switch (status) {
    case workers::CompileStatus::timeout: return MeasurementStatus::timeout;
    case workers::CompileStatus::crash:
    case workers::CompileStatus::out_of_memory: return MeasurementStatus::crash;
    default: return MeasurementStatus::compile_error;
  }
}

// What a user needs to see of a failed compile.
std::string log_headline(const std::string& log) {
  std::string headline = workers::compile_log_headline(log);
  return headline.empty() ? "compile failed" : headline;
}

}  // namespace

Evaluation failed_evaluation(const Config& config, MeasurementStatus status, std::string message) {
  Evaluation e;
  e.measurement.config = config;
  e.measurement.status = status;
  e.measurement.message = std::move(message);
  e.measurement.measured_at = static_cast<std::int64_t>(std::time(nullptr));
  e.measurement.ktune_version = version_string();
  return e;
}

Evaluation compile_failure_evaluation(const Config& config, const workers::CompileResult& compiled) {
  Evaluation e = failed_evaluation(config, from_compiler(compiled.status), log_headline(compiled.log));
  e.measurement.compile_seconds = compiled.compile_seconds;
  return e;
}

Evaluation runner_evaluation(const Config& config, const runner::KernelMeasurement& m, const runner::LaunchPlan& plan,
                             std::optional<double> compile_seconds) {
  Evaluation e = failed_evaluation(config, m.status, m.message);
  if (e.measurement.status == MeasurementStatus::ok || e.measurement.status == MeasurementStatus::pruned)
    e.measurement.timing = store::TimingStats{m.stats.median_ns, m.stats.min_ns, m.stats.mean_ns, m.stats.stddev_ns,
                                              static_cast<std::int64_t>(m.stats.samples), m.timer};
  if (e.measurement.timing)
    for (const auto& stage : m.stage_stats) e.measurement.stage_median_ns.push_back(stage.median_ns);
  if (m.registers) e.measurement.registers = m.registers;
  // A pipeline: the largest static shared memory of its kernels plus the first kernel's dynamic.
  if (m.registers || m.static_shared_bytes) e.measurement.shared_bytes = m.static_shared_bytes + plan.shape.dynamic_shared_bytes;
  e.measurement.compile_seconds = compile_seconds;
  e.diagnostics.sm_clock_mhz = m.sm_clock_mhz;
  e.diagnostics.dropped_samples = m.dropped_samples;
  e.diagnostics.noise = m.stats.noise;
  e.diagnostics.max_abs_error = m.max_abs_error;
  e.diagnostics.max_rel_error = m.max_rel_error;
  e.diagnostics.local_bytes = m.local_bytes;
  e.diagnostics.relative_standard_error = m.stats.relative_standard_error();
  e.diagnostics.phases = m.phases;
  if (m.stop != runner::StopDecision::keep_going) e.diagnostics.stop_reason = runner::stop_decision_name(m.stop);
  e.gpu_seconds = m.wall_seconds;
  return e;
}

}  // namespace ktune
