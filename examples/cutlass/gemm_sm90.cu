// CUTLASS 3.x/4.x Hopper (sm_90a) GEMM for ktune, compiled by NVRTC.
//
//   D[M,N] = A[M,K] * W[N,K]^T      (nn.Linear layout: A and W both K-major, "TN"),
//   ELEMENT in/out (cutlass::bfloat16_t or cutlass::half_t), fp32 accumulation, no C source.
//
// Tuned (as -D defines): TILE_M, TILE_N, TILE_K, CLUSTER_M, CLUSTER_N, STAGES (0 = as many as fit),
// KERNEL_SCHEDULE and EPILOGUE_SCHEDULE (named choices: CUTLASS schedule tag types), DTYPE.
//
// Why two kernels: under NVRTC CUTLASS leaves out the host-side cuTensorMapEncodeTiled and cannot
// run GemmKernel::to_underlying_arguments on the host. So:
//   * `cutlass_gemm_setup` (1 thread, run once per loaded configuration) builds the kernel's Params
//     ON THE DEVICE: to_underlying_arguments compiled as device code (-default-device), then copies
//     the runner-encoded tensor maps (kind `tensor_map`, passed by value as __grid_constant__) over
//     the empty descriptors CuTe left in Params, stores Params to global memory and releases them
//     to the tensormap proxy.
//   * `cutlass_gemm` (the tuned, timed kernel) reads Params from global memory, acquires the
//     descriptors for the tensormap proxy and runs GemmKernel.
// The tensor maps must be encoded exactly as CuTe's make_tma_copy would (the spec's tensor_map args;
// see examples/cutlass/README.md for the derivation).
// First, before any CUTLASS header: what CUTLASS 4.2 needs under NVRTC (nvrtc_shims/, which must
// precede the CUTLASS include dir on the include path: it also holds a patched
// cutlass/kernel_hardware_info.h).
#include "ktune_cutlass_nvrtc.h"

#include <cute/tensor.hpp>
#include <cutlass/cutlass.h>
#include <cutlass/numeric_types.h>
#include <cutlass/gemm/dispatch_policy.hpp>
#include <cutlass/gemm/collective/collective_builder.hpp>
#include <cutlass/epilogue/collective/collective_builder.hpp>
#include <cutlass/gemm/kernel/gemm_universal.hpp>

// DTYPE is the spec's named choice (not `dtype`: CUTLASS's sm90 builder has an identifier of
// that name, which a -Ddtype define would rewrite).
#if defined(DTYPE) && !defined(ELEMENT)
#define ELEMENT DTYPE
#endif
#ifndef ELEMENT
#define ELEMENT cutlass::bfloat16_t
#endif
#ifndef TILE_M
#define TILE_M 128
#endif
#ifndef TILE_N
#define TILE_N 256
#endif
#ifndef TILE_K
#define TILE_K 64
#endif
#ifndef CLUSTER_M
#define CLUSTER_M 2
#endif
#ifndef CLUSTER_N
#define CLUSTER_N 1
#endif
#ifndef STAGES
#define STAGES 0
#endif
#ifndef KERNEL_SCHEDULE
#define KERNEL_SCHEDULE cutlass::gemm::KernelTmaWarpSpecializedCooperative
#endif
#ifndef EPILOGUE_SCHEDULE
#define EPILOGUE_SCHEDULE cutlass::epilogue::TmaWarpSpecializedCooperative
#endif

namespace ktune_cutlass {

using namespace cute;

using Element = ELEMENT;
using ElementAccumulator = float;
using LayoutA = cutlass::layout::RowMajor;     // A[M,K], K contiguous
using LayoutB = cutlass::layout::ColumnMajor;  // W[N,K] seen as B[K,N] column-major: K contiguous
using LayoutD = cutlass::layout::RowMajor;     // D[M,N], N contiguous
constexpr int kAlignment = 128 / cutlass::sizeof_bits<Element>::value;

using TileShape = Shape<Int<TILE_M>, Int<TILE_N>, Int<TILE_K>>;
using ClusterShape = Shape<Int<CLUSTER_M>, Int<CLUSTER_N>, _1>;

using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
    cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
    cutlass::epilogue::collective::EpilogueTileAuto, ElementAccumulator, ElementAccumulator,
    void, LayoutD, kAlignment,          // no C source
    Element, LayoutD, kAlignment,
    EPILOGUE_SCHEDULE>::CollectiveOp;

#if STAGES > 0
using StageCount = cutlass::gemm::collective::StageCount<STAGES>;
#else
using StageCount = cutlass::gemm::collective::StageCountAutoCarveout<
    static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage))>;
#endif

using CollectiveMainloop = typename cutlass::gemm::collective::CollectiveBuilder<
    cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, Element, LayoutA, kAlignment, Element,
    LayoutB, kAlignment, ElementAccumulator, TileShape, ClusterShape, StageCount,
    KERNEL_SCHEDULE>::CollectiveOp;

using GemmKernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, CollectiveMainloop,
                                                        CollectiveEpilogue>;
using Params = typename GemmKernel::Params;

// CUTLASS's Arguments for D = A * W^T: packed K-major A and W, row-major D, batch 1 with packed
// batch strides (the spec's tensor maps encode the same), alpha 1, no C. sm_count = the spec's
// CTAS (never queried under NVRTC); raster along M, which the spec's grid formula assumes. Shared
// by the setup kernel (device) and tools/bench/cutlass/print_cute_tma.cu (host).
inline typename GemmKernel::Arguments gemm_arguments(const Element* A, const Element* W, Element* D,
                                                     int M, int N, int K, int ctas) {
  typename GemmKernel::Arguments args{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {M, N, K, 1},
      {A, cute::make_stride(int64_t(K), cute::Int<1>{}, int64_t(M) * K), W,
       cute::make_stride(int64_t(K), cute::Int<1>{}, int64_t(N) * K)},
      {{1.0f, 0.0f}, nullptr, cute::make_stride(int64_t(N), cute::Int<1>{}, int64_t(M) * N), D,
       cute::make_stride(int64_t(N), cute::Int<1>{}, int64_t(M) * N)}};
  args.hw_info.device_id = 0;
  args.hw_info.sm_count = ctas;
  args.scheduler.raster_order =
      cutlass::gemm::kernel::detail::PersistentTileSchedulerSm90Params::RasterOrderOptions::AlongM;
  return args;
}

}  // namespace ktune_cutlass

// The shared memory the spec's launch.shared_memory must give (checked by the harness and by
// the static_assert below against the spec's formula bound).
static_assert(ktune_cutlass::GemmKernel::SharedStorageSize <= 232448, "tile/stages exceed 227 KiB");

#ifndef KTUNE_CUTLASS_TYPES_ONLY  // tools/bench/cutlass/print_cute_tma.cu wants the types alone

// Every kernel of this file (and gemm_reference.cu) takes the spec's `args` in their order: the tuned
// kernel and the reference kernel are given all of them; the setup kernel lists them all too.
#define KTUNE_CUTLASS_GEMM_PARAMS                                                                  \
  const ktune_cutlass::Element *A, const ktune_cutlass::Element *W, ktune_cutlass::Element *D,     \
      unsigned char *params_buffer, const __grid_constant__ cute::TmaDescriptor tma_A,             \
      const __grid_constant__ cute::TmaDescriptor tma_W,                                           \
      const __grid_constant__ cute::TmaDescriptor tma_D, int M, int N, int K, int ctas

// Params must fit the spec's `params` buffer (4096 bytes).
static_assert(sizeof(ktune_cutlass::Params) <= 4096, "Params outgrew the spec's params buffer");

extern "C" __global__ void cutlass_gemm_setup(KTUNE_CUTLASS_GEMM_PARAMS) {
  using namespace ktune_cutlass;
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  Params params = GemmKernel::to_underlying_arguments(gemm_arguments(A, W, D, M, N, K, ctas), nullptr);
  // CuTe's TMA atoms hold the descriptor as their first member; copy the runner-encoded ones.
  *reinterpret_cast<cute::TmaDescriptor*>(
      const_cast<cute::TmaDescriptor*>(params.mainloop.tma_load_a.get_tma_descriptor())) = tma_A;
  *reinterpret_cast<cute::TmaDescriptor*>(
      const_cast<cute::TmaDescriptor*>(params.mainloop.tma_load_b.get_tma_descriptor())) = tma_W;
  *reinterpret_cast<cute::TmaDescriptor*>(
      const_cast<cute::TmaDescriptor*>(params.epilogue.tma_store_d.get_tma_descriptor())) = tma_D;
  memcpy(params_buffer, &params, sizeof(Params));
  asm volatile("fence.proxy.tensormap::generic.release.gpu;" ::: "memory");
}

extern "C" __global__ void __launch_bounds__(ktune_cutlass::GemmKernel::MaxThreadsPerBlock,
                                             ktune_cutlass::GemmKernel::MinBlocksPerMultiprocessor)
    cutlass_gemm(KTUNE_CUTLASS_GEMM_PARAMS) {
  using namespace ktune_cutlass;
  extern __shared__ __align__(128) char smem[];
  // Params (descriptors included) come from the buffer the setup kernel wrote; the other
  // arguments are there for the shared argument list and are not read.
  const Params& params = *reinterpret_cast<const Params*>(params_buffer);
  // The descriptors were written through the generic proxy by the setup kernel: acquire them
  // for the tensormap proxy before TMA uses them (128-byte fences, one per descriptor).
  asm volatile("fence.proxy.tensormap::generic.acquire.gpu [%0], 128;" ::"l"(
                   params.mainloop.tma_load_a.get_tma_descriptor())
               : "memory");
  asm volatile("fence.proxy.tensormap::generic.acquire.gpu [%0], 128;" ::"l"(
                   params.mainloop.tma_load_b.get_tma_descriptor())
               : "memory");
  asm volatile("fence.proxy.tensormap::generic.acquire.gpu [%0], 128;" ::"l"(
                   params.epilogue.tma_store_d.get_tma_descriptor())
               : "memory");
  GemmKernel gemm;
  gemm(params, smem);
}

// Size of Params and the shared memory, for the harness (and a check of the spec's formulas).
extern "C" __global__ void cutlass_gemm_info(unsigned long long* out) {
  out[0] = sizeof(ktune_cutlass::Params);
  out[1] = ktune_cutlass::GemmKernel::SharedStorageSize;
  out[2] = ktune_cutlass::GemmKernel::MaxThreadsPerBlock;
  out[3] = ktune_cutlass::CollectiveMainloop::DispatchPolicy::Stages;
}
#endif  // KTUNE_CUTLASS_TYPES_ONLY
