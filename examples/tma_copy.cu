// A 2D tile copy through the Tensor Memory Accelerator (sm_90): one thread of each block asks
// TMA for a BOX_Y x BOX_X tile of `in` (a tensor_map argument the runner encodes with the
// configuration's box and swizzle), an mbarrier counts the bytes in, and every thread then
// copies one element of the tile to `out` (`in` itself is passed only for the reference kernel). Out-of-range parts of edge tiles arrive as zeros and
// are not stored. With SWIZZLE == 128 TMA stores the tile with the 128-byte swizzle (the 16-byte
// chunk index XOR the row index mod 8, rows of 128 bytes: BOX_X == 32 floats), which the read
// undoes; tuning compares the cost of both layouts and the box shapes.
//
// NVRTC cannot include <cuda.h> (it needs the C library's headers), so the descriptor's type is
// declared here with the driver's layout: 128 bytes, 64-byte aligned, passed by value.
struct alignas(64) CUtensorMap_st {
  alignas(64) unsigned long long opaque[16];
};
typedef CUtensorMap_st CUtensorMap;

__device__ __forceinline__ unsigned shared_address(const void* pointer) {
  return static_cast<unsigned>(__cvta_generic_to_shared(pointer));
}

extern "C" __global__ void __launch_bounds__(BOX_X * BOX_Y)
    tma_copy(const __grid_constant__ CUtensorMap in_map, const float* in, float* out, int width, int height) {
  (void)in;  // read through in_map
  // 1024-byte alignment: the 128-byte swizzle pattern repeats every 8 rows of 128 bytes and is
  // computed from the shared memory address.
  __shared__ alignas(1024) float tile[BOX_Y * BOX_X];
  __shared__ alignas(8) unsigned long long arrived;
  const int x0 = blockIdx.x * BOX_X, y0 = blockIdx.y * BOX_Y;
  const bool leader = threadIdx.x == 0 && threadIdx.y == 0;
  const unsigned barrier = shared_address(&arrived);
  if (leader) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(barrier) : "memory");
    // The barrier's initialisation must be visible to the async proxy (TMA) before it is used.
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  if (leader) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(barrier), "r"(BOX_X * BOX_Y * 4) : "memory");
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];" ::"r"(
            shared_address(tile)),
        "l"(reinterpret_cast<unsigned long long>(&in_map)), "r"(x0), "r"(y0), "r"(barrier)
        : "memory");
  }
  // Phase 0 of the barrier completes once the arrival and all the tile's bytes are in.
  asm volatile(
      "{\n"
      ".reg .pred complete;\n"
      "KTUNE_TMA_WAIT:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 complete, [%0], 0;\n"
      "@!complete bra KTUNE_TMA_WAIT;\n"
      "}\n" ::"r"(barrier)
      : "memory");
  unsigned offset = (threadIdx.y * BOX_X + threadIdx.x) * 4u;
#if SWIZZLE == 128
  offset ^= ((offset >> 7) & 7u) << 4;
#endif
  const float value = *reinterpret_cast<const float*>(reinterpret_cast<const char*>(tile) + offset);
  const int x = x0 + static_cast<int>(threadIdx.x), y = y0 + static_cast<int>(threadIdx.y);
  if (x < width && y < height) out[static_cast<long long>(y) * width + x] = value;
}

// The reference: the same copy, element by element, from the buffer itself.
extern "C" __global__ void copy_reference(const CUtensorMap in_map, const float* in, float* out, int width, int height) {
  (void)in_map;
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < width && y < height) out[static_cast<long long>(y) * width + x] = in[static_cast<long long>(y) * width + x];
}
