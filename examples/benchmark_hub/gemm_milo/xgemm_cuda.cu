// ktune wrapper (not upstream): benchmark_hub's kernels/gemm_milo.py prepends #include "cl_to_cuda.h" and concatenates
// common.opencl and xgemm_part1..4.opencl into one string; these #includes in the same order are the same translation
// unit and keep every file unchanged. The entry, Xgemm, is defined in xgemm_part4.opencl.
#include "cl_to_cuda.h"
#include "common.opencl"
#include "xgemm_part1.opencl"
#include "xgemm_part2.opencl"
#include "xgemm_part3.opencl"
#include "xgemm_part4.opencl"
