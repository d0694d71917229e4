#pragma once
// What the store holds, as plain data. The engine computes keys and fills these in; the store
// looks inside a kernel form only to derive a measurement key from it (measurement_identity.hpp),
// so the schema migration can key the measurements of an older store.
//
// Units, everywhere in the store and its export format: kernel times in nanoseconds (double),
// host-side durations (compile time, tuning wall time) in seconds, timestamps in Unix seconds (UTC).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/measurement_status.hpp"
#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"

namespace ktune::store {

// The status vocabulary is the engine's (engine/common/measurement_status.hpp); the store keeps it by name.
using ktune::MeasurementStatus;
using ktune::parse_measurement_status;
using ktune::to_string;

struct KernelRecord {
  std::string kernel_key;   // 32 lowercase hex digits
  std::string name;         // "sgemm_tiled"
  std::string kernel_json;  // the engine's canonical kernel form; kernel_key == xxh3_128(kernel_json).hex()
  friend bool operator==(const KernelRecord&, const KernelRecord&) = default;
};

// One question the lookup table answers: a kernel at some sizes on a device with a toolchain.
struct TuningRecord {
  std::string tuning_key;  // 32 hex = hash(kernel key, sizes, device, toolchain), computed by the engine
  std::string kernel_key;
  Sizes sizes;             // spec order
  std::string device;      // "NVIDIA H100 80GB HBM3"
  std::string arch;        // "sm_90"
  std::string toolchain;   // "nvrtc 13.0"
  friend bool operator==(const TuningRecord&, const TuningRecord&) = default;
};

// What a measurement's outputs were checked against (Measurement::verification): one of these, or
// the engine's text for a reference and tolerances (engine/model/key.hpp verification_identity).
inline constexpr std::string_view kNotVerified = "none";
// Verified before ktune recorded the reference and tolerances (a schema-1 store's rows).
inline constexpr std::string_view kVerifiedUnrecorded = "unrecorded";

struct TimingStats {
  double median_ns = 0;
  double min_ns = 0;
  double mean_ns = 0;
  double stddev_ns = 0;
  std::int64_t samples = 0;
  std::string timer;  // "cupti" or "events"
  friend bool operator==(const TimingStats&, const TimingStats&) = default;
};

// One evaluated configuration. Failures are recorded too, so they are never evaluated again.
struct Measurement {
  Config config;
  MeasurementStatus status = MeasurementStatus::ok;
  std::optional<TimingStats> timing;  // required when status == ok
  std::optional<std::int64_t> registers;
  std::optional<std::int64_t> shared_bytes;
  std::optional<double> compile_seconds;
  std::string message;  // error message or log excerpt; empty on success
  std::int64_t measured_at = 0;
  std::string ktune_version;
  // Not part of what was measured but of what the result means: a request that verifies is not
  // answered by a measurement that was not verified the same way (engine/measurement_ledger.hpp).
  std::string verification{kNotVerified};
  // A pipeline (several kernels tuned together): each kernel's median time in ns, in launch order,
  // over the same samples as `timing` (which is the whole pipeline's). Empty for a single kernel.
  std::vector<double> stage_median_ns;
  friend bool operator==(const Measurement&, const Measurement&) = default;
};

struct MeasurementBatch {
  TuningRecord tuning;  // the question that measured them (history, replay by tuning key)
  std::vector<Measurement> measurements;
  // What they are measurements of (store/measurement_identity.hpp), by which later questions find
  // them. Empty: none (the rows are history only and answer no request).
  std::string measurement_key;
};

// A row of the lookup table: the winner for one tuning key.
struct BestRecord {
  TuningRecord tuning;
  Config config;
  double time_ns = 0;
  std::optional<double> default_time_ns;  // absent when the spec default did not run
  std::string strategy;                   // "exhaustive", "random", "coordinate_descent", ...
  std::int64_t evaluations = 0;
  double wall_seconds = 0;
  std::int64_t tuned_at = 0;
  std::string ktune_version;
  friend bool operator==(const BestRecord&, const BestRecord&) = default;
};

// Checks done before anything is written; errors name the offending field.
bool is_key(std::string_view text) noexcept;  // 32 lowercase hex digits
Status validate(const KernelRecord& kernel);
Status validate(const TuningRecord& tuning);
Status validate(const Measurement& measurement);
Status validate(const BestRecord& best);

// Sizes and configurations are persisted in their human form ("M=4096 N=4096"), spec order kept.
std::string named_to_text(const NamedValues& values);
Result<NamedValues> named_from_text(std::string_view text);

}  // namespace ktune::store
