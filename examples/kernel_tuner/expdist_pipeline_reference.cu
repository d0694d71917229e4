// ktune's reference for expdist.json (not upstream; a file of its own, so that expdist_reduce.json's reference file
// and with it that spec's key stay as they were): what the whole pipeline (ExpDist, then reduce_cross_term) computes,
// the sum over i < m, j < n of exp(-|a_i - b_j|^2 / (scale_A[i] + scale_B[j])) in double, with ExpDist's 2-D layout
// (coordinate d of point i at A[d * m + i], of point j at B[d * n + j]). The arguments are the spec's (every argument
// of a pipeline, in order); the partials buffer is not used. One block of 1024 threads: thread t sums the rows t,
// t + 1024, ... in index order, then a fixed tree in shared memory, so every run gives the same value.
extern "C" __global__ void expdist_reference(const double* A, const double* B, int m, int n, const double* scale_A,
                                             const double* scale_B, double* cross_term, double* output, int nblocks) {
  __shared__ double partial[1024];
  double sum = 0.0;
  for (int i = threadIdx.x; i < m; i += blockDim.x)
    for (int j = 0; j < n; j++) {
      double dist = 0.0;
      for (int d = 0; d < 2; d++) dist += (A[d * m + i] - B[d * n + j]) * (A[d * m + i] - B[d * n + j]);
      sum += exp(-dist / (scale_A[i] + scale_B[j]));
    }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) output[0] = partial[0];
}
