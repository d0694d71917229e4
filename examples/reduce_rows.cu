// Row sum of a row-major M x N fp32 matrix: y[r] = sum_c x[r][c]. Any M, N.
//
// A group of TPR threads (a multiple of a warp) owns one row; a block of BLOCK threads therefore
// covers BLOCK / TPR rows. Each thread walks its row with stride TPR in VEC-wide loads, keeping
// UNROLL independent accumulators so several loads are in flight; the group then combines its
// partial sums with warp shuffles (and shared memory when a row spans several warps).
//
// Trade-offs: a wide TPR gives long rows enough parallelism but leaves threads idle on short rows;
// VEC trades instructions for alignment needs (rows are read as floats when N % VEC != 0); UNROLL
// hides memory latency at the cost of registers. Summation order depends on the configuration,
// so results agree with the default to fp32 rounding only (verify uses rtol/atol 1e-3).
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef TPR
#define TPR 64
#endif
#ifndef VEC
#define VEC 4
#endif
#ifndef UNROLL
#define UNROLL 2
#endif

#define ROWS_PER_BLOCK (BLOCK / TPR)
#define WARPS_PER_ROW (TPR / 32)

#if TPR % 32 != 0 || BLOCK % TPR != 0
#error "TPR must be a multiple of 32 that divides BLOCK"
#endif

template <int V> struct VecType;
template <> struct VecType<1> { using type = float; };
template <> struct VecType<2> { using type = float2; };
template <> struct VecType<4> { using type = float4; };

__device__ __forceinline__ float lane_sum(float v) { return v; }
__device__ __forceinline__ float lane_sum(float2 v) { return v.x + v.y; }
__device__ __forceinline__ float lane_sum(float4 v) { return (v.x + v.y) + (v.z + v.w); }

// Sums elements [0, n) of p (viewed as T) owned by this thread: i = lane, lane + TPR, ...
template <typename T>
__device__ __forceinline__ float strided_sum(const T* __restrict__ p, int n, int lane) {
  float acc[UNROLL];
#pragma unroll
  for (int u = 0; u < UNROLL; ++u) acc[u] = 0.0f;
  int i = lane;
  for (; i + (UNROLL - 1) * TPR < n; i += UNROLL * TPR) {
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) acc[u] += lane_sum(__ldg(p + i + u * TPR));
  }
  for (; i < n; i += TPR) acc[0] += lane_sum(__ldg(p + i));
  float total = 0.0f;
#pragma unroll
  for (int u = 0; u < UNROLL; ++u) total += acc[u];
  return total;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
reduce_rows(const float* __restrict__ x, float* __restrict__ y, int M, int N) {
  __shared__ float partial[BLOCK / 32];
  const int lane_in_row = threadIdx.x % TPR;
  const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / TPR;

  // Threads past the last row keep 0 and still take part in the shuffles and the barrier.
  float v = 0.0f;
  if (row < M) {
    const float* xr = x + (size_t)row * N;
    // A row starts VEC-aligned iff N % VEC == 0 (the buffer itself is 256-byte aligned).
    if (VEC > 1 && N % VEC == 0)
      v = strided_sum(reinterpret_cast<const typename VecType<VEC>::type*>(xr), N / VEC, lane_in_row);
    else
      v = strided_sum(xr, N, lane_in_row);
  }

#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);

  if (WARPS_PER_ROW > 1) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (lane_in_row < 32) {  // the row's first warp combines the row's warps
      v = lane < WARPS_PER_ROW ? partial[(threadIdx.x / TPR) * WARPS_PER_ROW + lane] : 0.0f;
#pragma unroll
      for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
  }
  if (lane_in_row == 0 && row < M) y[row] = v;
}
