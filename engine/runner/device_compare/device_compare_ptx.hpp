#pragma once
// The PTX of device_compare.cu (generated: device_compare/generate.sh), with its one kernel,
// `ktune_compare`, and the layout of the outcome it writes.
#include <cstdint>

namespace ktune::runner {

extern const char kDeviceComparePtx[];
inline constexpr const char* kDeviceCompareKernel = "ktune_compare";

// CompareOutcome in device_compare.cu.
struct DeviceCompareOutcome {
  std::uint64_t mismatches = 0;
  std::uint64_t first_mismatch = ~std::uint64_t{0};
  std::uint64_t max_abs_error_bits = 0;  // a non-negative double's bits
  std::uint64_t max_rel_error_bits = 0;
};
static_assert(sizeof(DeviceCompareOutcome) == 32);

}  // namespace ktune::runner
