// A gather through a lookup table that a setup kernel builds (docs/spec.md "Setup kernels"):
// build_table runs once per loaded configuration, before anything is verified or timed, and
// fills `table` (not an output: its contents stay); gather_table is what is tuned. The table
// holds SCALE times the values, and gather_table divides by SCALE, so each configuration's
// result is right only with its own setup's table. gather_reference computes the values directly.
extern "C" __global__ void build_table(float* table, int entries) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < entries; i += gridDim.x * blockDim.x)
    table[i] = SCALE * (0.5f * static_cast<float>(i) + 1.0f);
}

extern "C" __global__ void gather_table(const int* index, const float* table, float* out, int n, int entries) {
  const int first = (blockIdx.x * blockDim.x + threadIdx.x) * ITEMS;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k) {
    const int i = first + k;
    if (i < n) out[i] = table[index[i] % entries] * (2.0f / SCALE);
  }
}

extern "C" __global__ void gather_reference(const int* index, const float* table, float* out, int n, int entries) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    out[i] = 2.0f * (0.5f * static_cast<float>(index[i] % entries) + 1.0f);
}
