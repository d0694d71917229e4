// A small tunable kernel for the spec tests: y = a * x, each thread doing ITEMS elements.
extern "C" __global__ void scale(const float* x, float* y, float a, int n) {
  int i = (blockIdx.x * TB + threadIdx.x) * ITEMS;
  for (int k = 0; k < ITEMS; ++k)
    if (i + k < n) y[i + k] = a * x[i + k];
}
