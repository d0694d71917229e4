// Reference for cs_reduction (ktune, issue #16): the sum of g_idata, written independently of the
// sample's kernels. One block: each thread sums a strided share in a wide type (long long for
// integers, double otherwise), then the block adds the shares in shared memory; out[0] is the sum
// converted to elem_type, which comes in as a define (the configuration's named choice, verify.match); the
// pipeline's arguments are all passed, as ktune passes them to a pipeline's reference kernel.
template <class X> struct WideSum { typedef double type; };
template <> struct WideSum<int> { typedef long long type; };
template <> struct WideSum<unsigned int> { typedef unsigned long long type; };

#define REF_THREADS 1024

__global__ void reduction_reference(const elem_type* g_idata, elem_type* partial, elem_type* out, unsigned int n, unsigned int nblocks) {
  typedef typename WideSum<elem_type>::type Wide;
  __shared__ Wide shares[REF_THREADS];
  Wide sum = 0;
  for (unsigned int i = threadIdx.x; i < n; i += blockDim.x) sum += static_cast<Wide>(g_idata[i]);
  shares[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) shares[threadIdx.x] += shares[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = static_cast<elem_type>(shares[0]);
  (void)partial;
  (void)nblocks;
}
