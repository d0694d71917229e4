// Tiled single-precision GEMM on CUDA cores: C = A * B, row-major, any M, N, K.
//
// Each block computes a BM x BN tile of C, stepping through K in slices of BK that are staged in
// shared memory; each thread accumulates a TM x TN micro-tile in registers. ktune passes the tile
// parameters as -D defines, so the sizes stay runtime arguments and one binary serves every size.
#ifndef BM
#define BM 64
#endif
#ifndef BN
#define BN 64
#endif
#ifndef BK
#define BK 8
#endif
#ifndef TM
#define TM 4
#endif
#ifndef TN
#define TN 4
#endif

#define THREADS ((BM / TM) * (BN / TN))

extern "C" __global__ void __launch_bounds__(THREADS)
sgemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
  __shared__ float As[BK][BM];  // transposed so a thread's TM values of one k are contiguous
  __shared__ float Bs[BK][BN];

  const int tid = threadIdx.x;
  const int thread_row = tid / (BN / TN);
  const int thread_col = tid % (BN / TN);
  const int block_row = blockIdx.y * BM;
  const int block_col = blockIdx.x * BN;

  float acc[TM][TN];
#pragma unroll
  for (int m = 0; m < TM; ++m)
#pragma unroll
    for (int n = 0; n < TN; ++n) acc[m][n] = 0.0f;

  float a_frag[TM];
  float b_frag[TN];

  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK; i += THREADS) {
      const int r = i / BK, c = i % BK;
      const int gr = block_row + r, gc = k0 + c;
      As[c][r] = (gr < M && gc < K) ? A[(size_t)gr * K + gc] : 0.0f;
    }
    for (int i = tid; i < BK * BN; i += THREADS) {
      const int r = i / BN, c = i % BN;
      const int gr = k0 + r, gc = block_col + c;
      Bs[r][c] = (gr < K && gc < N) ? B[(size_t)gr * N + gc] : 0.0f;
    }
    __syncthreads();

#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int m = 0; m < TM; ++m) a_frag[m] = As[k][thread_row * TM + m];
#pragma unroll
      for (int n = 0; n < TN; ++n) b_frag[n] = Bs[k][thread_col * TN + n];
#pragma unroll
      for (int m = 0; m < TM; ++m)
#pragma unroll
        for (int n = 0; n < TN; ++n) acc[m][n] = fmaf(a_frag[m], b_frag[n], acc[m][n]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int m = 0; m < TM; ++m) {
    const int row = block_row + thread_row * TM + m;
    if (row >= M) continue;
#pragma unroll
    for (int n = 0; n < TN; ++n) {
      const int col = block_col + thread_col * TN + n;
      if (col < N) C[(size_t)row * N + col] = acc[m][n];
    }
  }
}
