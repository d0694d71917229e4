// Sum of N floats in two kernels launched one after the other, tuned together as a pipeline
// (docs/spec.md, "Pipelines"): reduce_partial leaves one partial sum per block in `partial`,
// reduce_final sums the BLOCKS partials into out[0]. BLOCKS trades the first kernel's parallelism
// (enough blocks to fill the GPU and hide memory latency) against the second kernel's serial work;
// the pipeline's time, not either kernel's, is what is tuned. reduce_reference is the naive
// version the outputs are verified against (one block, double accumulation).
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef UNROLL
#define UNROLL 4
#endif
#ifndef FINAL_BLOCK
#define FINAL_BLOCK 256
#endif

// The sum of v over a block of THREADS threads (a multiple of 32), valid in thread 0.
template <int THREADS>
__device__ float block_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  __shared__ float warp_sums[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < THREADS / 32 ? warp_sums[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  }
  return v;
}

// Stage 1: block b sums a grid-stride share of `in` (UNROLL loads in flight per thread) into partial[b].
__global__ void __launch_bounds__(BLOCK) reduce_partial(const float* __restrict__ in, float* __restrict__ partial, int n) {
  float sum = 0.0f;
  const long long stride = static_cast<long long>(gridDim.x) * BLOCK * UNROLL;
  for (long long base = static_cast<long long>(blockIdx.x) * BLOCK * UNROLL + threadIdx.x; base < n; base += stride) {
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      const long long i = base + static_cast<long long>(u) * BLOCK;
      if (i < n) sum += in[i];
    }
  }
  sum = block_sum<BLOCK>(sum);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

// Stage 2: one block sums the first `blocks` partial sums into out[0].
__global__ void __launch_bounds__(FINAL_BLOCK) reduce_final(const float* __restrict__ partial, float* __restrict__ out, int blocks) {
  float sum = 0.0f;
  for (int i = threadIdx.x; i < blocks; i += FINAL_BLOCK) sum += partial[i];
  sum = block_sum<FINAL_BLOCK>(sum);
  if (threadIdx.x == 0) out[0] = sum;
}

// The reference: what the whole pipeline computes, naively (a pipeline's reference kernel takes
// every argument the spec declares, in that order). Launched with one block of 1024 threads.
__global__ void reduce_reference(const float* in, float* partial, float* out, int n, int blocks) {
  __shared__ double sums[1024];
  double sum = 0.0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) sum += in[i];
  sums[threadIdx.x] = sum;
  __syncthreads();
  for (int width = blockDim.x / 2; width > 0; width >>= 1) {
    if (threadIdx.x < width) sums[threadIdx.x] += sums[threadIdx.x + width];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = static_cast<float>(sums[0]);
  (void)partial;
  (void)blocks;
}
