#include "engine/common/measurement_status.hpp"

#include <array>
#include <utility>

namespace ktune {

namespace {
constexpr std::array<std::pair<MeasurementStatus, std::string_view>, kLastMeasurementStatus + 1> kStatusNames{{
    {MeasurementStatus::ok, "ok"},
    {MeasurementStatus::compile_error, "compile_error"},
    {MeasurementStatus::invalid_config, "invalid_config"},
    {MeasurementStatus::launch_error, "launch_error"},
    {MeasurementStatus::wrong_result, "wrong_result"},
    {MeasurementStatus::timeout, "timeout"},
    {MeasurementStatus::crash, "crash"},
    {MeasurementStatus::pruned, "pruned"},
}};
}  // namespace

std::string_view to_string(MeasurementStatus status) noexcept {
  for (const auto& [value, name] : kStatusNames)
    if (value == status) return name;
  return "unknown";
}

std::optional<MeasurementStatus> parse_measurement_status(std::string_view text) noexcept {
  for (const auto& [value, name] : kStatusNames)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace ktune
