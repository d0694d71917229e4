// Prints what CUTLASS's own host path does for one configuration of examples/cutlass/gemm_sm90.cu:
// every cuTensorMapEncodeTiled call (interposed: with CUTLASS_ENABLE_DIRECT_CUDA_DRIVER_CALL CUTLASS
// calls the driver symbol directly, and this file defines that symbol), get_grid_shape, the block,
// the shared memory and sizeof(Params). No GPU is needed. It is the ground truth the spec's
// tensor_map args and launch formulas are checked against (README.md beside gemm_sm90.cu).
//
//   nvcc -std=c++17 -arch=sm_90a --expt-relaxed-constexpr -DNDEBUG -DCUTLASS_ENABLE_DIRECT_CUDA_DRIVER_CALL=1
//        -I examples/cutlass/nvrtc_shims -I<cutlass include> -D<config defines>
//        tools/bench/cutlass/print_cute_tma.cu -o print_cute_tma -lcudart_static
//   ./print_cute_tma M N K [sm_count]
#define KTUNE_CUTLASS_TYPES_ONLY 1
#include "../../../examples/cutlass/gemm_sm90.cu"

#include <cstdio>
#include <cstdlib>

static const char* swizzle_name(CUtensorMapSwizzle s) {
  switch (s) {
    case CU_TENSOR_MAP_SWIZZLE_NONE: return "0";
    case CU_TENSOR_MAP_SWIZZLE_32B: return "32";
    case CU_TENSOR_MAP_SWIZZLE_64B: return "64";
    case CU_TENSOR_MAP_SWIZZLE_128B: return "128";
    default: return "other";
  }
}

extern "C" CUresult cuTensorMapEncodeTiled(CUtensorMap*, CUtensorMapDataType type, cuuint32_t rank,
                                           void* address, const cuuint64_t* dims,
                                           const cuuint64_t* strides, const cuuint32_t* box,
                                           const cuuint32_t* element_strides,
                                           CUtensorMapInterleave interleave,
                                           CUtensorMapSwizzle swizzle,
                                           CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
  std::printf("encode address=%p type=%d rank=%u dims=[", address, int(type), rank);
  for (cuuint32_t i = 0; i < rank; ++i) std::printf("%s%llu", i ? "," : "", (unsigned long long)dims[i]);
  std::printf("] byte_strides=[");
  for (cuuint32_t i = 0; i + 1 < rank; ++i) std::printf("%s%llu", i ? "," : "", (unsigned long long)strides[i]);
  std::printf("] box=[");
  for (cuuint32_t i = 0; i < rank; ++i) std::printf("%s%u", i ? "," : "", box[i]);
  std::printf("] element_strides=[");
  for (cuuint32_t i = 0; i < rank; ++i) std::printf("%s%u", i ? "," : "", element_strides[i]);
  std::printf("] interleave=%d swizzle=%s l2=%d oob=%d\n", int(interleave), swizzle_name(swizzle),
              int(l2), int(oob));
  return CUDA_SUCCESS;
}

int main(int argc, char** argv) {
  using namespace ktune_cutlass;
  if (argc < 4) { std::fprintf(stderr, "usage: %s M N K [sm_count]\n", argv[0]); return 2; }
  int M = std::atoi(argv[1]), N = std::atoi(argv[2]), K = std::atoi(argv[3]);
  int sms = argc > 4 ? std::atoi(argv[4]) : 132;
  // Distinct fake addresses so each encode names its tensor (A 0x100000000, W 0x200000000, D 0x300000000).
  auto* A = reinterpret_cast<Element*>(0x100000000ull);
  auto* W = reinterpret_cast<Element*>(0x200000000ull);
  auto* D = reinterpret_cast<Element*>(0x300000000ull);
  Params params = GemmKernel::to_underlying_arguments(gemm_arguments(A, W, D, M, N, K, sms), nullptr);
  dim3 grid = GemmKernel::get_grid_shape(params);
  dim3 block = GemmKernel::get_block_shape();
  std::printf("grid=[%u,%u,%u] block=[%u,%u,%u] shared_memory=%d params_bytes=%zu stages=%d\n",
              grid.x, grid.y, grid.z, block.x, block.y, block.z, int(GemmKernel::SharedStorageSize),
              sizeof(Params), int(CollectiveMainloop::DispatchPolicy::Stages));
  return 0;
}
