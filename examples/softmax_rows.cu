// Row softmax of a row-major M x N fp32 matrix, numerically safe: y = exp(x - max) / sum(exp(x - max)).
// Any M, N.
//
// A group of TPR threads (a multiple of a warp) owns one row; a block of BLOCK threads covers
// BLOCK / TPR rows. ONLINE = 0 reads the row three times (max, then sum of exponentials, then the
// output); ONLINE = 1 reads it twice, finding the max and the sum in one pass with the online
// normaliser (Milakov & Gimelshein 2018), at the price of rescaling the running sum whenever the
// max grows (more exp work). VEC-wide loads (used when N % VEC == 0, i.e. every row is aligned)
// cut instructions. Row-wide max and sums are combined with warp shuffles, and through shared
// memory when a row spans several warps.
//
// The max is exact in any order; the sum's rounding depends on the configuration, so outputs agree
// with the default to about 1e-6 relative (verify uses rtol 1e-4).
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef TPR
#define TPR 128
#endif
#ifndef VEC
#define VEC 4
#endif
#ifndef ONLINE
#define ONLINE 0
#endif

#define ROWS_PER_BLOCK (BLOCK / TPR)
#define NEG_INF (-__int_as_float(0x7f800000))  // no <math_constants.h> needed
#define WARPS_PER_ROW (TPR / 32)

#if TPR % 32 != 0 || BLOCK % TPR != 0
#error "TPR must be a multiple of 32 that divides BLOCK"
#endif

struct MaxOp {
  static __device__ __forceinline__ float identity() { return NEG_INF; }
  static __device__ __forceinline__ float apply(float a, float b) { return fmaxf(a, b); }
};
struct SumOp {
  static __device__ __forceinline__ float identity() { return 0.0f; }
  static __device__ __forceinline__ float apply(float a, float b) { return a + b; }
};

// Combines `v` over the TPR threads of a row; every thread of the row gets the result. Must be
// called by all threads of the block (it may hold a barrier).
template <typename Op>
__device__ __forceinline__ float row_reduce(float v, float* scratch) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = Op::apply(v, __shfl_xor_sync(0xffffffffu, v, offset));
  if (WARPS_PER_ROW > 1) {
    const int lane = threadIdx.x % 32;
    if (lane == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    v = lane < WARPS_PER_ROW ? scratch[(threadIdx.x / TPR) * WARPS_PER_ROW + lane] : Op::identity();
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v = Op::apply(v, __shfl_xor_sync(0xffffffffu, v, offset));
    __syncthreads();  // scratch is reused by the next reduction
  }
  return v;
}

// s * exp(m_old - m_new), defined as 0 for an empty partial sum (m_old = -inf), which would
// otherwise give 0 * exp(-inf + inf) = NaN.
__device__ __forceinline__ float rescale(float s, float m_old, float m_new) {
  return m_old == NEG_INF ? 0.0f : s * expf(m_old - m_new);
}

template <int V> struct Vec { float v[V]; };

template <int V>
__device__ __forceinline__ Vec<V> load(const float* p, int i) {
  Vec<V> r;
  if constexpr (V == 4) {
    const float4 t = __ldg(reinterpret_cast<const float4*>(p) + i);
    r.v[0] = t.x; r.v[1] = t.y; r.v[2] = t.z; r.v[3] = t.w;
  } else if constexpr (V == 2) {
    const float2 t = __ldg(reinterpret_cast<const float2*>(p) + i);
    r.v[0] = t.x; r.v[1] = t.y;
  } else {
    r.v[0] = __ldg(p + i);
  }
  return r;
}

template <int V>
__device__ __forceinline__ void store(float* p, int i, const Vec<V>& r) {
  if constexpr (V == 4) reinterpret_cast<float4*>(p)[i] = make_float4(r.v[0], r.v[1], r.v[2], r.v[3]);
  else if constexpr (V == 2) reinterpret_cast<float2*>(p)[i] = make_float2(r.v[0], r.v[1]);
  else p[i] = r.v[0];
}

// One row (or nothing when `active` is false: the thread still joins the barriers). `n` counts
// V-wide items.
template <int V>
__device__ __forceinline__ void softmax_row(const float* xr, float* yr, int n, int lane, bool active, float* scratch) {
  float m = NEG_INF, s = 0.0f;
  if (ONLINE) {
    if (active)
      for (int i = lane; i < n; i += TPR) {
        const Vec<V> a = load<V>(xr, i);
        float vmax = a.v[0];
#pragma unroll
        for (int k = 1; k < V; ++k) vmax = fmaxf(vmax, a.v[k]);
        const float m_new = fmaxf(m, vmax);
        float part = 0.0f;
#pragma unroll
        for (int k = 0; k < V; ++k) part += expf(a.v[k] - m_new);
        s = rescale(s, m, m_new) + part;
        m = m_new;
      }
    const float row_max = row_reduce<MaxOp>(m, scratch);
    s = rescale(s, m, row_max);
    m = row_max;
  } else {
    if (active)
      for (int i = lane; i < n; i += TPR) {
        const Vec<V> a = load<V>(xr, i);
#pragma unroll
        for (int k = 0; k < V; ++k) m = fmaxf(m, a.v[k]);
      }
    m = row_reduce<MaxOp>(m, scratch);
    if (active)
      for (int i = lane; i < n; i += TPR) {
        const Vec<V> a = load<V>(xr, i);
#pragma unroll
        for (int k = 0; k < V; ++k) s += expf(a.v[k] - m);
      }
  }
  const float inv = 1.0f / row_reduce<SumOp>(s, scratch);
  if (active)
    for (int i = lane; i < n; i += TPR) {
      Vec<V> a = load<V>(xr, i);
#pragma unroll
      for (int k = 0; k < V; ++k) a.v[k] = expf(a.v[k] - m) * inv;
      store<V>(yr, i, a);
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
softmax_rows(const float* __restrict__ x, float* __restrict__ y, int M, int N) {
  __shared__ float scratch[BLOCK / 32];
  const int lane = threadIdx.x % TPR;
  const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / TPR;
  const bool active = row < M;
  const size_t offset = active ? (size_t)row * N : 0;
  // The branch is uniform over the whole grid (it depends on N only), so barriers stay aligned.
  if (VEC > 1 && N % VEC == 0)
    softmax_row<VEC>(x + offset, y + offset, N / VEC, lane, active, scratch);
  else
    softmax_row<1>(x + offset, y + offset, N, lane, active, scratch);
}
