#include "engine/runner/tensor_map_encode.hpp"

#include <algorithm>

namespace ktune::runner {

namespace {

template <class T>
std::string list(const T& values, std::uint32_t count) {
  std::string out = "[";
  for (std::uint32_t i = 0; i < count; ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

}  // namespace

CUtensorMapDataType tensor_map_data_type(ElementType type) noexcept {
  switch (type) {
    case ElementType::f16: return CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    case ElementType::bf16: return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
    case ElementType::f32: return CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
    case ElementType::f64: return CU_TENSOR_MAP_DATA_TYPE_FLOAT64;
    case ElementType::i8:
    case ElementType::u8: return CU_TENSOR_MAP_DATA_TYPE_UINT8;
    case ElementType::i16:
    case ElementType::u16: return CU_TENSOR_MAP_DATA_TYPE_UINT16;
    case ElementType::i32: return CU_TENSOR_MAP_DATA_TYPE_INT32;
    case ElementType::u32: return CU_TENSOR_MAP_DATA_TYPE_UINT32;
    case ElementType::i64: return CU_TENSOR_MAP_DATA_TYPE_INT64;
    case ElementType::u64: return CU_TENSOR_MAP_DATA_TYPE_UINT64;
  }
  return CU_TENSOR_MAP_DATA_TYPE_UINT8;
}

std::optional<CUtensorMapSwizzle> tensor_map_swizzle(std::uint32_t bytes) noexcept {
  switch (bytes) {
    case 0: return CU_TENSOR_MAP_SWIZZLE_NONE;
    case 32: return CU_TENSOR_MAP_SWIZZLE_32B;
    case 64: return CU_TENSOR_MAP_SWIZZLE_64B;
    case 128: return CU_TENSOR_MAP_SWIZZLE_128B;
    default: return std::nullopt;
  }
}

std::optional<CUtensorMapL2promotion> tensor_map_l2_promotion(std::uint32_t bytes) noexcept {
  switch (bytes) {
    case 0: return CU_TENSOR_MAP_L2_PROMOTION_NONE;
    case 64: return CU_TENSOR_MAP_L2_PROMOTION_L2_64B;
    case 128: return CU_TENSOR_MAP_L2_PROMOTION_L2_128B;
    case 256: return CU_TENSOR_MAP_L2_PROMOTION_L2_256B;
    default: return std::nullopt;
  }
}

std::string describe_tensor_map(const TensorMapPlan& plan) {
  const std::uint32_t rank = std::min<std::uint32_t>(plan.rank, kMaxTensorMapRank);
  return "dims " + list(plan.dims, rank) + " strides " + list(plan.stride_bytes, rank > 0 ? rank - 1 : 0) + " bytes box " +
         list(plan.box, rank) + " element strides " + list(plan.element_strides, rank) + " swizzle " +
         std::to_string(plan.swizzle_bytes) + " l2 " + std::to_string(plan.l2_promotion_bytes) + " oob " +
         (plan.oob_nan ? "nan" : "zeros");
}

Result<CUtensorMap> encode_tensor_map(const cuda::DriverApi& api, const TensorMapPlan& plan, ElementType type,
                                      CUdeviceptr address) {
  const auto swizzle = tensor_map_swizzle(plan.swizzle_bytes);
  const auto l2 = tensor_map_l2_promotion(plan.l2_promotion_bytes);
  if (plan.rank < 1 || plan.rank > kMaxTensorMapRank || !swizzle || !l2)
    return make_error(Errc::invalid_argument, "tensor map cannot be encoded: " + describe_tensor_map(plan));
  CUtensorMap map{};
  const CUresult rc = api.cuTensorMapEncodeTiled(
      &map, tensor_map_data_type(type), plan.rank, reinterpret_cast<void*>(address), plan.dims.data(),
      plan.stride_bytes.data(), plan.box.data(), plan.element_strides.data(), CU_TENSOR_MAP_INTERLEAVE_NONE, *swizzle, *l2,
      plan.oob_nan ? CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA : CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (rc != CUDA_SUCCESS)
    return make_error(Errc::invalid_argument, "cuTensorMapEncodeTiled refused the tensor map (" + api.error_text(rc) +
                                                  "): " + element_type_name(type) + " " + describe_tensor_map(plan));
  return map;
}

}  // namespace ktune::runner
