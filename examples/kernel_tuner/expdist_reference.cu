// ktune's reference for expdist_reduce.json (not upstream): reduce_cross_term's sum of the nblocks partial cross
// terms, by one thread in index order (same arguments as reduce_cross_term).
extern "C" __global__ void reduce_cross_term_reference(double* output, double* d_cross_term, int m, int n, int nblocks) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double sum = 0.0;
  for (int i = 0; i < nblocks; i++) sum += d_cross_term[i];
  output[0] = sum;
}
