// ktune's reference for cs_convolutionSeparable_rows.json / _columns.json (not upstream): the sample's CPU gold
// functions (convolutionSeparable_gold.cpp: convolutionRowCPU, convolutionColumnCPU) as naive kernels, one thread per
// output pixel, zero outside the image, the same summation order. Its own c_Kernel: ktune fills the symbol in every
// cubin it loads, this one's too.
#define KERNEL_RADIUS 8
#define KERNEL_LENGTH (2 * KERNEL_RADIUS + 1)
__constant__ float c_Kernel[KERNEL_LENGTH];

extern "C" __global__ void convolution_row_reference(float* dst, const float* src, int imageW, int imageH, int pitch) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= imageW || y >= imageH) return;
  float sum = 0;
  for (int k = -KERNEL_RADIUS; k <= KERNEL_RADIUS; k++) {
    const int d = x + k;
    if (d >= 0 && d < imageW) sum += src[y * pitch + d] * c_Kernel[KERNEL_RADIUS - k];
  }
  dst[y * pitch + x] = sum;
}

extern "C" __global__ void convolution_column_reference(float* dst, const float* src, int imageW, int imageH,
                                                        int pitch) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= imageW || y >= imageH) return;
  float sum = 0;
  for (int k = -KERNEL_RADIUS; k <= KERNEL_RADIUS; k++) {
    const int d = y + k;
    if (d >= 0 && d < imageH) sum += src[d * pitch + x] * c_Kernel[KERNEL_RADIUS - k];
  }
  dst[y * pitch + x] = sum;
}
