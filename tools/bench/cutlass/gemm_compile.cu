// A CUTLASS 4.x Hopper GEMM for compile measurements only (tools/bench/cutlass_compile.sh): a
// CollectiveBuilder sm90a TMA warp-specialised bf16 GEMM, D = A B (A row-major, B column-major),
// tile and cluster shapes and the kernel schedule as parameters. The header prefix (the #include
// lines) is what ktune precompiles once per worker. The tuned example is examples/ (issue #19).
#include <cutlass/cutlass.h>
#include <cute/tensor.hpp>
#include <cutlass/gemm/dispatch_policy.hpp>
#include <cutlass/gemm/collective/collective_builder.hpp>
#include <cutlass/epilogue/collective/collective_builder.hpp>
#include <cutlass/gemm/kernel/gemm_universal.hpp>

using namespace cute;
using Element = cutlass::bfloat16_t;
using ElementAccumulator = float;
constexpr int Alignment = 128 / cutlass::sizeof_bits<Element>::value;
using TileShape = Shape<Int<TILE_M>, Int<TILE_N>, _64>;
using ClusterShape = Shape<Int<CLUSTER_M>, Int<CLUSTER_N>, _1>;
// PINGPONG 1: two consumer warp groups on alternate tiles; 0: cooperative on one tile.
using KernelSchedule = cute::conditional_t<PINGPONG == 1, cutlass::gemm::KernelTmaWarpSpecializedPingpong,
                                           cutlass::gemm::KernelTmaWarpSpecializedCooperative>;
using EpilogueSchedule = cute::conditional_t<PINGPONG == 1, cutlass::epilogue::TmaWarpSpecialized,
                                             cutlass::epilogue::TmaWarpSpecializedCooperative>;

using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
    cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
    cutlass::epilogue::collective::EpilogueTileAuto, ElementAccumulator, ElementAccumulator, Element,
    cutlass::layout::RowMajor, Alignment, Element, cutlass::layout::RowMajor, Alignment, EpilogueSchedule>::CollectiveOp;

using CollectiveMainloop = typename cutlass::gemm::collective::CollectiveBuilder<
    cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, Element, cutlass::layout::RowMajor, Alignment, Element,
    cutlass::layout::ColumnMajor, Alignment, ElementAccumulator, TileShape, ClusterShape,
    cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage))>,
    KernelSchedule>::CollectiveOp;

using GemmKernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, CollectiveMainloop, CollectiveEpilogue>;

extern "C" __global__ void __launch_bounds__(GemmKernel::MaxThreadsPerBlock, GemmKernel::MinBlocksPerMultiprocessor)
    cutlass_gemm(CUTLASS_GRID_CONSTANT typename GemmKernel::Params const params) {
  extern __shared__ char smem[];
  GemmKernel op;
  op(params, smem);
}
