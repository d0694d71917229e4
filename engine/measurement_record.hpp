#pragma once
// The one conversion from what the GPU runner measured (and what the compiler answered) to what the
// library reports and the store keeps. Every field of runner::KernelMeasurement is kept or dropped
// here, by a decision written next to it:
//
// | runner field                   | goes to                                | why |
// |--------------------------------|----------------------------------------|-----|
// | status                         | Measurement::status                    | the one vocabulary (engine/common/measurement_status.hpp) |
// | message                        | Measurement::message                   | why it is not ok, for the user |
// | stats median/min/mean/stddev, samples; timer | Measurement::timing (ok and pruned) | what ranking and the lookup table use; a pruned configuration keeps the samples it got, so a reader sees how slow it was |
// | stage_stats (a pipeline)       | Measurement::stage_median_ns (medians) | each kernel's share of the pipeline's time, for reports and exports; the other statistics are derivable from the pipeline's |
// | stats.noise                    | Evaluation::diagnostics.noise          | derivable (stddev / mean): not stored twice |
// | registers, static shared bytes | Measurement::registers, shared_bytes (+ the plan's dynamic shared memory; a pipeline: its kernels' largest) | resources explain a ranking and survive export |
// | local_bytes                    | diagnostics                            | spills: diagnostic; the store keeps what lookups and imports need |
// | sm_clock_mhz, dropped_samples  | diagnostics                            | how trustworthy one measurement was; reported to hooks and traces, not part of the answer |
// | max_abs_error, max_rel_error   | diagnostics                            | how close to the tolerance it verified; the pass/fail is the status |
// | wall_seconds                   | Evaluation::gpu_seconds                | the runner's time, for GPU-busy figures; not a property of the configuration |
//
// The compile side: CompileStatus is a job's outcome, not a measurement's; compile_error → compile_error,
// timeout → timeout, crash and out_of_memory → crash (the compiler died on it), internal and cancelled
// → compile_error with the log (nothing about the configuration was learnt — the pool says why).
#include <optional>
#include <string>

#include "engine/runner/measurement.hpp"
#include "engine/evaluation.hpp"
#include "workers/compile_job.hpp"

namespace ktune {

// A configuration that never reached the runner (no launch plan, or the runner machinery failed).
Evaluation failed_evaluation(const Config& config, MeasurementStatus status, std::string message);
// A configuration that did not compile.
Evaluation compile_failure_evaluation(const Config& config, const workers::CompileResult& compiled);
// What the runner measured. `compile_seconds`: the NVRTC time behind the cubin, when it was compiled for this.
Evaluation runner_evaluation(const Config& config, const runner::KernelMeasurement& measured, const runner::LaunchPlan& plan,
                             std::optional<double> compile_seconds);

}  // namespace ktune
