#!/bin/sh
# Recreates the vendored third-party kernel sources under examples/ (benchmark_hub/, cuda_samples/, kernel_tuner/)
# from the upstream repositories at the commits recorded in examples/THIRD_PARTY.md, and the derived files made from
# them (each derivation is spelled out here, so it is on record and repeatable). Upstream files are copied unchanged.
#   examples/vendor_sources.sh BENCHMARK_HUB_GIT CUDA_SAMPLES_GIT KERNEL_TUNER_GIT
# Each argument is a clone (or bare git directory) of the repository. Run from the repository root.
set -eu
BH=$1; CS=$2; KT=$3
BHC=8eeb99e7179e6838af95d392ac6c60cebfd8c434
CSC=c94ff366aed18c797b8a85dfaac7817b0228b420
KTC=96a6abc1019179397753c4afede9149a80aec369
OUT=examples
mkdir -p "$OUT/benchmark_hub/dedisp_milo" "$OUT/benchmark_hub/gemm_milo" "$OUT/cuda_samples" "$OUT/kernel_tuner"

bh() { git -C "$BH" show "$BHC:$1" > "$OUT/benchmark_hub/$2"; }
bh LICENSE LICENSE
bh kernels/convolution_milo.cu convolution_milo.cu
bh currently_unused/kernels/convolution.cu convolution.cu
bh kernels/hotspot_milo.cu hotspot_milo.cu
bh currently_unused/kernels/pnpoly.cu pnpoly.cu
bh kernels/dedisp_milo/dedispersion.cu dedisp_milo/dedispersion.cu
bh kernels/dedisp_milo/dedispersion.h dedisp_milo/dedispersion.h
for f in cl_to_cuda.h common.opencl xgemm_part1.opencl xgemm_part2.opencl xgemm_part3.opencl xgemm_part4.opencl; do
  bh "kernels/gemm_milo/$f" "gemm_milo/$f"
done
# Derived: Kernel Tuner concatenates these files (kernels/gemm_milo.py); #includes in the same order are equivalent
# and keep each file unchanged.
cat > "$OUT/benchmark_hub/gemm_milo/xgemm_cuda.cu" <<'W'
// ktune wrapper (not upstream): benchmark_hub's kernels/gemm_milo.py prepends #include "cl_to_cuda.h" and concatenates
// common.opencl and xgemm_part1..4.opencl into one string; these #includes in the same order are the same translation
// unit and keep every file unchanged. The entry, Xgemm, is defined in xgemm_part4.opencl.
#include "cl_to_cuda.h"
#include "common.opencl"
#include "xgemm_part1.opencl"
#include "xgemm_part2.opencl"
#include "xgemm_part3.opencl"
#include "xgemm_part4.opencl"
W

cs() { git -C "$CS" show "$CSC:$1" > "$OUT/cuda_samples/$2"; }
cs LICENSE LICENSE
cs Samples/0_Introduction/matrixMul_nvrtc/matrixMul_kernel.cu matrixMul_kernel.cu
R=Samples/2_Concepts_and_Techniques/reduction/reduction_kernel.cu
C=Samples/2_Concepts_and_Techniques/convolutionSeparable/convolutionSeparable.cu
# The two files below are derived from upstream files that NVRTC refuses as they are (host code); the upstream files
# themselves are not kept (no spec compiles them), the derivation reads them from the repository.
# Derived: the device part of reduction_kernel.cu (lines 1-627: everything before the host launcher reduce<T>()),
# without <stdio.h> (NVRTC has no host headers), closing the include guard the cut leaves open.
{ git -C "$CS" show "$CSC:$R" | sed -n 1,627p | grep -v '#include <stdio.h>'; echo '#endif // _REDUCE_KERNEL_H_'; } \
  > "$OUT/cuda_samples/reduction_kernel_device.cu"
# Derived: the device part of convolutionSeparable.cu: licence header (1-27), cooperative groups, the filter size
# from convolutionSeparable_common.h, c_Kernel (38), the row kernel (48-104) and the column kernel (122-179); the
# eight ROWS_/COLUMNS_ tiling macros get #ifndef guards so that ktune's -D values reach them.
{ git -C "$CS" show "$CSC:$C" | sed -n 1,27p
  echo '#include <cooperative_groups.h>'; echo 'namespace cg = cooperative_groups;'
  echo '#define KERNEL_RADIUS 8'; echo '#define KERNEL_LENGTH (2 * KERNEL_RADIUS + 1)'
  git -C "$CS" show "$CSC:$C" | sed -n '38p;48,104p;122,179p'; } \
  | sed -E 's/^#define ((ROWS|COLUMNS)_[A-Z_]+) +([0-9]+)/#ifndef \1\n#define \1 \3\n#endif/' \
  > "$OUT/cuda_samples/convolutionSeparable_device.cu"

kt() { git -C "$KT" show "$KTC:$1" > "$OUT/kernel_tuner/$2"; }
kt LICENSE LICENSE
# Derived: <cub/cub.cuh> pulls Thrust's host launch code, which NVRTC refuses ("A function explicitly marked as a
# __host__ function is not allowed in JIT mode", CUDA 13); the kernels only use cub::BlockReduce, whose own header
# compiles. That one line is the only change.
git -C "$KT" show "$KTC:examples/cuda/expdist.cu" \
  | sed 's|#include <cub/cub.cuh>|#include <cub/block/block_reduce.cuh>  // ktune: was <cub/cub.cuh> (NVRTC, see THIRD_PARTY.md)|' \
  > "$OUT/kernel_tuner/expdist_nvrtc.cu"
echo "vendored sources under $OUT"
