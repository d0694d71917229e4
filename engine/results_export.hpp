#pragma once
// Tuning results out of ktune, in the formats other tools read (`ktune export --format`):
//
//   kernel-tuner  Kernel Tuner's cache file (its `cache=` argument; simulation mode replays it).
//                 One tuning: a kernel at one size on one device. Read back by
//                 engine/kernel_tuner_import.hpp, so export -> import round-trips.
//   t4            The Auto-Tuning Association's T4 results schema ("Open Autotuning Results
//                 Schema", autotuning_methodology/schemas/T4.json): one result per measured
//                 configuration of one tuning, times in milliseconds.
//   wisdom        kernel_launcher's wisdom file (<key>.wisdom, JSON lines: a header naming the
//                 tunable parameters, then the best configurations of every tuned size and device
//                 of one kernel).
//
// All of them come from the store's records (engine/store_file.hpp): the lookup table's entries,
// the measurements each tuning recorded, and the kernel's parameter space (its canonical form).
#include <string>
#include <vector>

#include "engine/common/result.hpp"
#include "store/records.hpp"

namespace ktune {

// One tuning with what it measured. `measurements` in recording order (a configuration measured
// twice is exported as its latest measurement).
struct TuningResults {
  store::KernelRecord kernel;
  store::BestRecord best;
  std::vector<store::Measurement> measurements;
};

// Kernel Tuner's cache: device_name, kernel_name (the kernel's ktune name: pass the same name
// to tune_kernel, or edit it), problem_size (the sizes in spec order), tune_params_keys and
// tune_params (the whole parameter space), objective "time", and one cache entry per configuration:
// its parameters, `time` in ms (ktune's median) or the failure marker (InvalidConfig,
// CompilationFailedConfig, RuntimeFailedConfig), compile_time and benchmark_time in ms, timestamp.
// `kernel_name`: what to write as kernel_name (Kernel Tuner's function name); empty: the ktune name.
Result<std::string> to_kernel_tuner_cache(const TuningResults& tuning, const std::string& kernel_name = {});

// The T4 results document (schema_version "1.0.0", metadata with timeunit "milliseconds").
// Every result has the schema's required configuration, times, invalidity and correctness.
Result<std::string> to_t4_results(const TuningResults& tuning);
// What the exported T4 document lacks or gets wrong against the schema's required fields and
// enumerations; empty when it conforms. Used by the exporter itself (it refuses to write a document
// that does not conform) and by the tests.
std::vector<std::string> t4_problems(const std::string& document);

// A kernel_launcher wisdom file for the tunings of one kernel: the header line
// {"version": "1.0", "objective": "time", "tunable_parameters": [...], "key": KEY} and, per tuning,
// up to `per_tuning` of its fastest correct configurations as
// {"config": [values in tunable_parameters order], "problem_size": [x, y, z], "time": ms,
//  "environment": {"device_name", "compute_capability", "date", "ktune_version"}}.
// kernel_launcher's problem size has at most three dimensions: a kernel with more sizes is refused.
Result<std::string> to_wisdom(const std::string& key, const std::vector<TuningResults>& tunings, std::size_t per_tuning = 5);

}  // namespace ktune
