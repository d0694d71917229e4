// Naive reference for examples/cutlass/gemm_sm90.cu: D[M,N] = A[M,K] * W[N,K]^T with fp32
// accumulation, one thread per output element, rounded once to the element type at the end.
// Plain CUDA (no CUTLASS): used as the spec's verify.against kernel and by the harness
// (tools/bench/cutlass). DTYPE is the spec's named choice (cutlass::bfloat16_t or cutlass::half_t);
// both have the layout of __nv_bfloat16 / __half, so this file maps them onto those.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#if !defined(DTYPE) && defined(ELEMENT)
#define DTYPE ELEMENT
#endif
#ifndef DTYPE
#define DTYPE cutlass::bfloat16_t
#endif

namespace cutlass { struct bfloat16_t; struct half_t; }

template <typename T> struct ReferenceElement;
template <> struct ReferenceElement<cutlass::bfloat16_t> {
  using type = __nv_bfloat16;
  __device__ static float load(type v) { return __bfloat162float(v); }
  __device__ static type store(float v) { return __float2bfloat16_rn(v); }
};
template <> struct ReferenceElement<cutlass::half_t> {
  using type = __half;
  __device__ static float load(type v) { return __half2float(v); }
  __device__ static type store(float v) { return __float2half_rn(v); }
};
using Ref = ReferenceElement<DTYPE>;

// The tensor maps as the 128-byte, 64-byte-aligned blob they are (cute::TmaDescriptor, CUtensorMap).
struct alignas(64) TensorMapBytes { char bytes[128]; };

// The spec's full argument list in order (the reference kernel takes every argument of `args`);
// only A, W, D and the sizes are read.
extern "C" __global__ void gemm_reference(const Ref::type* __restrict__ A,
                                          const Ref::type* __restrict__ W, Ref::type* __restrict__ D,
                                          unsigned char* params_buffer,
                                          const __grid_constant__ TensorMapBytes tma_A,
                                          const __grid_constant__ TensorMapBytes tma_W,
                                          const __grid_constant__ TensorMapBytes tma_D, int M, int N,
                                          int K, int ctas) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  const Ref::type* a = A + static_cast<long long>(m) * K;
  const Ref::type* w = W + static_cast<long long>(n) * K;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += Ref::load(a[k]) * Ref::load(w[k]);
  D[static_cast<long long>(m) * N + n] = Ref::store(acc);
}
