// out = alpha * a + b over n floats, with the arithmetic done in a tunable type (a named choice
// passed as a template argument: scaled_add<float, 256> or scaled_add<double, 256>) and ITEMS
// elements per thread (a define). Written for ktune's examples/scaled_add.json.
template <typename Compute, int BLOCK>
__global__ void scaled_add(float* out, const float* a, const float* b, float alpha, int n) {
  const long long first = (static_cast<long long>(blockIdx.x) * BLOCK + threadIdx.x) * ITEMS;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k) {
    const long long i = first + k;
    if (i < n) out[i] = static_cast<float>(static_cast<Compute>(alpha) * static_cast<Compute>(a[i]) + static_cast<Compute>(b[i]));
  }
}
