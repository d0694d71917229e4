// ktune's reference for cs_matrixMul_nvrtc.json (not upstream): a naive row-major C = A * B with matrixMulCUDA's
// arguments (C, A, B, wA, wB), one thread per element of C, summing k = 0 .. wA-1 in order as the tiled kernel does.
// The launch covers exactly hA rows (the spec's sizes are multiples of the block), so hA needs no argument.
extern "C" __global__ void matrixMul_reference(float* C, float* A, float* B, int wA, int wB) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (col >= wB) return;
  float sum = 0.0f;
  for (int k = 0; k < wA; ++k) sum += A[row * wA + k] * B[k * wB + col];
  C[row * wB + col] = sum;
}
