// 2D convolution (a cross-correlation, as in Kernel Tuner's convolution example) of an
// (H + FH - 1) x (W + FW - 1) fp32 image with an FH x FW filter held in __constant__ memory, into
// an H x W output. Each block stages its input tile plus halo in shared memory; each thread
// computes TY x TX outputs, BY and BX apart (so neighbouring threads write neighbouring columns).
// The filter is filled by ktune before the kernel runs ("constants" in the spec), and
// conv2d_naive, one thread per output reading global memory, is the reference answer.
#ifndef FH
#define FH 7
#endif
#ifndef FW
#define FW 7
#endif

__constant__ float d_filter[FH * FW];

extern "C" __global__ void conv2d(float* __restrict__ out, const float* __restrict__ in, int H, int W) {
  constexpr int TILE_W = BX * TX + FW - 1;
  constexpr int TILE_H = BY * TY + FH - 1;
  __shared__ float tile[TILE_H][TILE_W];
  const int in_w = W + FW - 1, in_h = H + FH - 1;
  const int x0 = blockIdx.x * BX * TX, y0 = blockIdx.y * BY * TY;
  for (int ty = threadIdx.y; ty < TILE_H; ty += BY)
    for (int tx = threadIdx.x; tx < TILE_W; tx += BX) {
      const int gy = y0 + ty, gx = x0 + tx;
      tile[ty][tx] = gy < in_h && gx < in_w ? in[(size_t)gy * in_w + gx] : 0.0f;
    }
  __syncthreads();

  float sum[TY][TX];
#pragma unroll
  for (int ty = 0; ty < TY; ++ty)
#pragma unroll
    for (int tx = 0; tx < TX; ++tx) sum[ty][tx] = 0.0f;
  // The same order of terms as the naive kernel: i outer, j inner.
#pragma unroll
  for (int i = 0; i < FH; ++i)
#pragma unroll
    for (int j = 0; j < FW; ++j) {
      const float f = d_filter[i * FW + j];
#pragma unroll
      for (int ty = 0; ty < TY; ++ty)
#pragma unroll
        for (int tx = 0; tx < TX; ++tx) sum[ty][tx] += f * tile[threadIdx.y + ty * BY + i][threadIdx.x + tx * BX + j];
    }
#pragma unroll
  for (int ty = 0; ty < TY; ++ty)
#pragma unroll
    for (int tx = 0; tx < TX; ++tx) {
      const int y = y0 + threadIdx.y + ty * BY, x = x0 + threadIdx.x + tx * BX;
      if (y < H && x < W) out[(size_t)y * W + x] = sum[ty][tx];
    }
}

extern "C" __global__ void conv2d_naive(float* out, const float* in, int H, int W) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= W || y >= H) return;
  const int in_w = W + FW - 1;
  float sum = 0.0f;
  for (int i = 0; i < FH; ++i)
    for (int j = 0; j < FW; ++j) sum += d_filter[i * FW + j] * in[(size_t)(y + i) * in_w + x + j];
  out[(size_t)y * W + x] = sum;
}
