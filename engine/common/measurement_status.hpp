#pragma once
// The one status vocabulary of a measured configuration (DESIGN.md decision 4): the GPU runner
// reports it, the engine maps compile outcomes onto it, the store persists it by name, and every
// report counts by it. Names are part of the store schema and the export format: never rename one.
#include <cstdint>
#include <optional>
#include <string_view>

namespace ktune {

enum class MeasurementStatus : std::uint8_t {
  ok,
  compile_error,
  invalid_config,  // the configuration breaks a launch limit of the device (threads, shared memory, registers)
  launch_error,
  wrong_result,    // verification against the reference failed
  timeout,
  crash,           // the compiler or the runner died on it
  pruned,          // stopped early: clearly slower than the best so far (timing holds what was taken)
};
inline constexpr std::uint8_t kLastMeasurementStatus = static_cast<std::uint8_t>(MeasurementStatus::pruned);

std::string_view to_string(MeasurementStatus status) noexcept;  // "ok", "compile_error", ...
std::optional<MeasurementStatus> parse_measurement_status(std::string_view text) noexcept;

}  // namespace ktune
