#pragma once
// What the engine asks the GPU runner to measure, and what comes back. Shared by the runner
// process (engine/runner/gpu_session) and its client (engine/runner/gpu_runner).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/measurement_status.hpp"
#include "engine/runner/launch_plan.hpp"
#include "engine/runner/measure_phases.hpp"
#include "engine/runner/statistics.hpp"

namespace ktune::runner {

// The store's classes for one evaluated configuration (DESIGN.md decision 4).

struct KernelJob {
  std::string label;         // the configuration, for messages ("BM=64 BN=64 ...")
  std::string cubin;         // CUBIN bytes from the compile workers
  std::string lowered_name;  // the symbol to launch (a pipeline: its first kernel)
  std::vector<std::string> stage_lowered_names;  // a pipeline's later kernels, in the same cubin
  std::vector<std::string> setup_lowered_names;  // setup kernels (LaunchPlan::setup_shapes), same cubin
  LaunchPlan launch;
  // One kernel on other arguments than the problem's (then stage_lowered_names is empty): a
  // pipeline's reference kernel takes every argument of the spec in the order declared.
  std::optional<std::vector<ArgSlot>> own_args;
};

enum class VerifyMode : std::uint8_t { none, set_reference, compare };

struct MeasureOptions {
  StopRule rule;
  bool flush_l2 = true;                 // cold-cache samples (the default); false = --warm-cache
  std::optional<double> best_median_ns; // enables the early stop of hopeless configurations
  double kernel_timeout_seconds = 10;   // one launch running longer than this is a hang
  // Clocks are ramped when the runner starts and again after the GPU sat idle (gpu_session.hpp);
  // per configuration, warm-up only has to absorb lazy module loading and cold instruction
  // caches: at least 2 launches, and this long.
  double warmup_seconds = 0.0002;
  VerifyMode verify = VerifyMode::none;
  bool use_cupti = true;  // false: time with CUDA events even where CUPTI works (for comparisons)
  // set_reference: what the outputs of this run are called in the messages of later mismatches
  // ("configuration BM=64 of the same kernel", "reference kernel conv_naive"). Tolerances are
  // per output, in the problem (BufferPlan).
  std::string reference_label;
  // Run each job once (prepare, first run, verify) and take no samples: a reference kernel is
  // run for its outputs, not timed.
  bool run_once = false;
};

struct KernelMeasurement {
  MeasurementStatus status = MeasurementStatus::ok;
  std::string message;  // why it is not ok
  SampleStats stats;  // a pipeline: from the first kernel's start to the last one's end
  // A pipeline: each kernel's own time over the same samples, in launch order. Empty for a single kernel.
  std::vector<SampleStats> stage_stats;
  std::string timer;  // "cupti" or "events"
  int registers = 0, static_shared_bytes = 0, local_bytes = 0;
  unsigned sm_clock_mhz = 0;
  std::size_t dropped_samples = 0;  // taken while the GPU was throttled
  double max_abs_error = 0, max_rel_error = 0;
  double wall_seconds = 0;  // in the runner: load, checks, verification, warm-up, samples
  MeasurePhases phases;
  StopDecision stop = StopDecision::keep_going;  // why sampling ended (keep_going: it never started)
  bool verified_on_device = false;  // compared with the reference on the GPU (else on the host, or not at all)
};

}  // namespace ktune::runner
