#pragma once
// What a measurement is a measurement *of* (docs/keys.md "Measurement key"): the kernel as it is
// compiled, launched and fed — its canonical kernel form without the parameter lists, the
// constraints and the verification switch — plus its input data, the sizes, the device and the
// toolchain. A stored measurement is found by (measurement key, configuration).
//
// Defined on the stored kernel form (the text the store keeps for every kernel), so the schema
// migration, which has only the store, and the engine, which has the spec, compute the same key.
// This is the one place the store reads inside a kernel form.
#include <string>
#include <string_view>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "store/records.hpp"

namespace ktune::store {

inline constexpr int kMeasurementFormVersion = 1;

// The inputs of a measurement made before ktune recorded them (each buffer's init was in no
// stored form): such measurements are found by the key computed with this marker.
inline constexpr std::string_view kUnrecordedInputs = "\"unrecorded\"";


struct MeasurementSubject {
  std::string_view kernel_json;  // the canonical kernel form (KernelRecord::kernel_json)
  std::string_view inputs_json;  // canonical JSON of the input data, or kUnrecordedInputs
  const Sizes* sizes = nullptr;  // values for the form's size names, any order
  std::string_view device;       // "NVIDIA H100 80GB HBM3"
  std::string_view arch;         // "sm_90"
  std::string_view toolchain;    // "nvrtc 13.0" (TuningRecord::toolchain)
};

// Errc::corrupt when the kernel form is not a JSON object of the "ktune-kernel" form, or a size
// it names has no value.
Result<std::string> measurement_canonical_form(const MeasurementSubject& subject);
Result<std::string> measurement_key(const MeasurementSubject& subject);  // 32 hex digits

// Whether the kernel form says its measurements were made with verification off ("verify": false).
Result<bool> kernel_form_verifies(std::string_view kernel_json);

}  // namespace ktune::store
