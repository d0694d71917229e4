// Tensor-core GEMM with WMMA: C (fp32, M x N) = A (fp16, M x K) * B (fp16, K x N), all row-major,
// fp32 accumulation. Any M; N and K multiples of 8 (the spec's constraints: every row must start
// on a 16-byte boundary for the 16-byte asynchronous copies).
//
// A block computes a BM x BN tile of C with WM x WN warps; each warp owns a (BM/WM) x (BN/WN)
// warp tile made of 16 x 16 WMMA accumulator fragments. K is walked in slices of BK staged in
// shared memory by cp.async (16-byte chunks, zero-filled past the matrix edges, so tails in M, N
// and K need no special case). STAGES slices are in flight: STAGES = 1 loads then computes;
// STAGES >= 2 overlaps the copy of slice k + STAGES - 1 with the math on slice k, at the price of
// STAGES x the shared memory (and so occupancy).
//
// Trade-offs: bigger block tiles reuse each loaded element more (less memory traffic per FLOP)
// but give fewer blocks; bigger warp tiles reuse fragments in registers but raise register
// pressure; BK sets how much work each barrier amortises. Every configuration adds the same
// products in the same k order, so results agree with the default to fp32 rounding at most.
#include <mma.h>
#include <cuda_fp16.h>

#ifndef BM
#define BM 128
#endif
#ifndef BN
#define BN 128
#endif
#ifndef BK
#define BK 32
#endif
#ifndef WM
#define WM 2
#endif
#ifndef WN
#define WN 4
#endif
#ifndef STAGES
#define STAGES 3
#endif

#define THREADS (WM * WN * 32)
#define WTM (BM / WM)  // warp tile
#define WTN (BN / WN)
#define FM (WTM / 16)  // accumulator fragments per warp
#define FN (WTN / 16)
// Rows padded by 8 halves (16 bytes): consecutive rows start 4 banks apart, which breaks the bank
// conflicts of fragment loads, and the leading dimension stays a multiple of 8 as WMMA requires.
#define LDA (BK + 8)
#define LDB (BN + 8)
#define A_STAGE (BM * LDA)  // halves per stage
#define B_STAGE (BK * LDB)

#if BM % (16 * WM) != 0 || BN % (16 * WN) != 0 || BK % 16 != 0
#error "warp tiles must be multiples of 16 x 16 and BK a multiple of 16"
#endif

using namespace nvcuda;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int src_bytes = valid ? 16 : 0;  // 0: nothing is read, the 16 bytes are zero-filled
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Issues the copies of the K slice starting at k0 into one stage. K % 8 == 0 and N % 8 == 0, so
// every 8-half chunk is either entirely inside the matrix or entirely outside.
__device__ __forceinline__ void load_slice(half* As, half* Bs, const half* __restrict__ A, const half* __restrict__ B,
                                           int M, int N, int K, int block_row, int block_col, int k0) {
  constexpr int A_CHUNKS = BM * BK / 8;
#pragma unroll
  for (int c = threadIdx.x; c < A_CHUNKS; c += THREADS) {
    const int r = c / (BK / 8), kc = (c % (BK / 8)) * 8;
    const int gr = block_row + r, gk = k0 + kc;
    const bool valid = gr < M && gk < K;
    cp_async16(As + r * LDA + kc, valid ? A + (size_t)gr * K + gk : A, valid);
  }
  constexpr int B_CHUNKS = BK * BN / 8;
#pragma unroll
  for (int c = threadIdx.x; c < B_CHUNKS; c += THREADS) {
    const int r = c / (BN / 8), nc = (c % (BN / 8)) * 8;
    const int gk = k0 + r, gn = block_col + nc;
    const bool valid = gk < K && gn < N;
    cp_async16(Bs + r * LDB + nc, valid ? B + (size_t)gk * N + gn : B, valid);
  }
}

using AccFrag = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

__device__ __forceinline__ void mma_slice(AccFrag (&acc)[FM][FN], const half* As, const half* Bs, int wm, int wn) {
#pragma unroll
  for (int kk = 0; kk < BK; kk += 16) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a[FM];
    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> b[FN];
#pragma unroll
    for (int i = 0; i < FM; ++i) wmma::load_matrix_sync(a[i], As + (wm * WTM + i * 16) * LDA + kk, LDA);
#pragma unroll
    for (int j = 0; j < FN; ++j) wmma::load_matrix_sync(b[j], Bs + kk * LDB + wn * WTN + j * 16, LDB);
#pragma unroll
    for (int i = 0; i < FM; ++i)
#pragma unroll
      for (int j = 0; j < FN; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
  }
}

extern "C" __global__ void __launch_bounds__(THREADS)
hgemm_mma(const half* __restrict__ A, const half* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
  // Dynamic: STAGES * (A_STAGE + B_STAGE) halves, at least 1 KiB per warp for the epilogue.
  extern __shared__ __align__(128) unsigned char smem[];
  half* As = reinterpret_cast<half*>(smem);
  half* Bs = As + STAGES * A_STAGE;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / WN, wn = warp % WN;
  const int block_row = blockIdx.y * BM, block_col = blockIdx.x * BN;

  AccFrag acc[FM][FN];
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  const int k_slices = (K + BK - 1) / BK;
#if STAGES == 1
  for (int kt = 0; kt < k_slices; ++kt) {
    load_slice(As, Bs, A, B, M, N, K, block_row, block_col, kt * BK);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    mma_slice(acc, As, Bs, wm, wn);
    __syncthreads();  // everyone is done with the stage before it is overwritten
  }
#else
  // Prologue: slices 0 .. STAGES-2 in flight (one commit group each, empty groups past the end so
  // the group arithmetic below holds for any K).
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < k_slices) load_slice(As + s * A_STAGE, Bs + s * B_STAGE, A, B, M, N, K, block_row, block_col, s * BK);
    cp_async_commit();
  }
  for (int kt = 0; kt < k_slices; ++kt) {
    // STAGES - 1 + kt groups are committed; slice kt is complete once at most STAGES - 2 are pending.
    cp_async_wait<STAGES - 2>();
    // Makes slice kt visible to all threads, and guarantees everyone finished slice kt - 1, whose
    // stage is refilled next.
    __syncthreads();
    const int next = kt + STAGES - 1;
    if (next < k_slices) {
      const int s = next % STAGES;
      load_slice(As + s * A_STAGE, Bs + s * B_STAGE, A, B, M, N, K, block_row, block_col, next * BK);
    }
    cp_async_commit();
    const int s = kt % STAGES;
    mma_slice(acc, As + s * A_STAGE, Bs + s * B_STAGE, wm, wn);
  }
  cp_async_wait<0>();
  __syncthreads();  // the epilogue reuses shared memory
#endif

  const int warp_row = block_row + wm * WTM, warp_col = block_col + wn * WTN;
  if (block_row + BM <= M && block_col + BN <= N) {
    // Interior tile: straight to global memory (N % 8 == 0 keeps every fragment 32-byte aligned).
#pragma unroll
    for (int i = 0; i < FM; ++i)
#pragma unroll
      for (int j = 0; j < FN; ++j)
        wmma::store_matrix_sync(C + (size_t)(warp_row + i * 16) * N + warp_col + j * 16, acc[i][j], N, wmma::mem_row_major);
  } else {
    // Edge tile: each fragment goes through this warp's 16 x 16 scratch, then element-wise with bounds.
    float* scratch = reinterpret_cast<float*>(smem) + warp * 256;
#pragma unroll
    for (int i = 0; i < FM; ++i)
#pragma unroll
      for (int j = 0; j < FN; ++j) {
        wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
        __syncwarp();
        for (int e = lane; e < 256; e += 32) {
          const int r = warp_row + i * 16 + e / 16, c = warp_col + j * 16 + e % 16;
          if (r < M && c < N) C[(size_t)r * N + c] = scratch[e];
        }
        __syncwarp();
      }
  }
}
