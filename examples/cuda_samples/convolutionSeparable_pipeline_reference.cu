// ktune's reference for cs_convolutionSeparable.json (not upstream; a file of its own, so that the single-pass specs'
// reference file and with it their keys stay as they were): the sample's CPU gold functions
// (convolutionSeparable_gold.cpp: convolutionRowCPU, then convolutionColumnCPU on its result) as one naive kernel, one
// thread per output pixel, zero outside the image. Its own c_Kernel: ktune fills the symbol in every cubin it loads.
#define KERNEL_RADIUS 8
#define KERNEL_LENGTH (2 * KERNEL_RADIUS + 1)
__constant__ float c_Kernel[KERNEL_LENGTH];

// Both passes as one pipeline (rows into d_Buffer, then columns into d_Output): the column pass of the row pass, each
// row sum recomputed where it is needed (the gold functions' order; the data and filter are integers 0..15, so every
// sum is exact in fp32 and the order does not matter). The arguments are the spec's, in order (every argument of a
// pipeline); the buffer between the passes is not used.
extern "C" __global__ void convolution_separable_reference(float* dst, float* buffer, const float* src, int imageW,
                                                           int imageH, int pitch) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= imageW || y >= imageH) return;
  float sum = 0;
  for (int ky = -KERNEL_RADIUS; ky <= KERNEL_RADIUS; ky++) {
    const int row = y + ky;
    if (row < 0 || row >= imageH) continue;
    float row_sum = 0;
    for (int kx = -KERNEL_RADIUS; kx <= KERNEL_RADIUS; kx++) {
      const int d = x + kx;
      if (d >= 0 && d < imageW) row_sum += src[row * pitch + d] * c_Kernel[KERNEL_RADIUS - kx];
    }
    sum += row_sum * c_Kernel[KERNEL_RADIUS - ky];
  }
  dst[y * pitch + x] = sum;
}
