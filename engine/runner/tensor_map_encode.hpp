#pragma once
// A TMA descriptor (TensorMapPlan) encoded by the driver (cuTensorMapEncodeTiled) against a
// buffer's device address, so a kernel receives it by value (`const __grid_constant__ CUtensorMap`).
// A plan the driver refuses is the configuration's mistake: an error naming the CUresult and every
// value passed, which the runner reports as `invalid_config`.
#include <cuda.h>

#include <optional>
#include <string>

#include "engine/common/element_type.hpp"
#include "engine/common/result.hpp"
#include "engine/cuda/driver_api.hpp"
#include "engine/runner/launch_plan.hpp"

namespace ktune::runner {

// The descriptor's data type for a buffer of `type`: TMA copies bytes, so signed 8- and 16-bit
// integers travel as the unsigned types of their width (the driver has no signed ones).
CUtensorMapDataType tensor_map_data_type(ElementType type) noexcept;
// The driver's enums for the plan's byte counts; nullopt for a value it has no enum for.
std::optional<CUtensorMapSwizzle> tensor_map_swizzle(std::uint32_t bytes) noexcept;
std::optional<CUtensorMapL2promotion> tensor_map_l2_promotion(std::uint32_t bytes) noexcept;

// "dims [64, 32] strides [256] bytes box [32, 8] element strides [1, 1] swizzle 128 l2 256 oob zeros"
std::string describe_tensor_map(const TensorMapPlan& plan);

Result<CUtensorMap> encode_tensor_map(const cuda::DriverApi& api, const TensorMapPlan& plan, ElementType type,
                                      CUdeviceptr address);

}  // namespace ktune::runner
