// ktune's reference for gemm_milo.json (not upstream): a naive fp32 GEMM in CLBlast's Xgemm layout, one thread per
// element of C, summing k = 0 .. K-1 in order:
//   C[n*M + m] = alpha * sum_k A[k*M + m] * B[k*N + n] + beta * C[n*M + m]
// The layout is the one xgemm_part1..2.opencl index (agm[idk*(kSizeM/VWM) + idm], bgm[idk*(kSizeN/VWN) + idn],
// cgm[idn*(kSizeM/VWM) + idm]); its arguments are Xgemm's, so it runs on the same buffers.
extern "C" __global__ void gemm_reference_clblast_layout(const int M, const int N, const int K, const float alpha,
                                                         const float beta, const float* A, const float* B, float* C,
                                                         const int b_offset, const int c_offset) {
  const int m = blockIdx.x * blockDim.x + threadIdx.x;
  const int n = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float sum = 0.0f;
  for (int k = 0; k < K; ++k) sum += A[k * M + m] * B[b_offset + k * N + n];
  float* c = C + c_offset + n * M + m;
  *c = alpha * sum + beta * *c;
}
