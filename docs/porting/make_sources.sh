#!/bin/sh
# (Run where `fetch` mirrored the two repositories under /work/.mirror; see docs/porting/README.md.)
# Rebuilds the source layout the draft specs refer to (benchmark_hub/..., cuda_samples/...) under $1 (default
# /tmp/bhcheck/examples) from the fetched mirrors, at the commits the survey used. Upstream files are copied unchanged;
# the three derived files (gemm wrapper, two device-only extractions) are made here so their derivation is on record.
set -eu
OUT=${1:-/tmp/bhcheck/examples}
BH=/work/.mirror/AutoTuningAssociation+benchmark_hub/repo; BHC=8eeb99e7179e6838af95d392ac6c60cebfd8c434
CS=/work/.mirror/NVIDIA+cuda-samples/repo;                  CSC=c94ff366aed18c797b8a85dfaac7817b0228b420
mkdir -p "$OUT/benchmark_hub/dedisp_milo" "$OUT/benchmark_hub/gemm_milo" "$OUT/cuda_samples"
bh() { git -C "$BH" show "$BHC:$1" > "$OUT/benchmark_hub/$2"; }
bh LICENSE LICENSE
bh kernels/convolution_milo.cu convolution_milo.cu
bh kernels/hotspot_milo.cu hotspot_milo.cu
bh currently_unused/kernels/pnpoly.cu pnpoly.cu
bh kernels/dedisp_milo/dedispersion.cu dedisp_milo/dedispersion.cu
bh kernels/dedisp_milo/dedispersion.h dedisp_milo/dedispersion.h
for f in cl_to_cuda.h common.opencl xgemm_part1.opencl xgemm_part2.opencl xgemm_part3.opencl xgemm_part4.opencl; do
  bh kernels/gemm_milo/$f gemm_milo/$f; done
cat > "$OUT/benchmark_hub/gemm_milo/xgemm_cuda.cu" <<'W'
// Kernel Tuner concatenates these files (kernels/gemm_milo.py); includes are equivalent and keep the originals unchanged.
// Entry: Xgemm (xgemm_part4.opencl). ktune checks entry as text in this file only, hence this line (issue #16 item 5).
#include "cl_to_cuda.h"
#include "common.opencl"
#include "xgemm_part1.opencl"
#include "xgemm_part2.opencl"
#include "xgemm_part3.opencl"
#include "xgemm_part4.opencl"
W
git -C "$CS" show "$CSC:LICENSE" > "$OUT/cuda_samples/LICENSE"
git -C "$CS" show "$CSC:Samples/0_Introduction/matrixMul_nvrtc/matrixMul_kernel.cu" > "$OUT/cuda_samples/matrixMul_kernel.cu"
R=Samples/2_Concepts_and_Techniques/reduction/reduction_kernel.cu
{ git -C "$CS" show "$CSC:$R" | sed -n 1,627p | grep -v '#include <stdio.h>'; echo '#endif // _REDUCE_KERNEL_H_'; } \
  > "$OUT/cuda_samples/reduction_kernel_device.cu"
C=Samples/2_Concepts_and_Techniques/convolutionSeparable/convolutionSeparable.cu
{ git -C "$CS" show "$CSC:$C" | sed -n 1,27p   # licence header
  echo '#include <cooperative_groups.h>'; echo 'namespace cg = cooperative_groups;'
  echo '#define KERNEL_RADIUS 8'; echo '#define KERNEL_LENGTH (2 * KERNEL_RADIUS + 1)'
  git -C "$CS" show "$CSC:$C" | sed -n '38p;48,104p;122,179p'; } \
  | sed -E 's/^#define ((ROWS|COLUMNS)_[A-Z_]+) +([0-9]+)/#ifndef \1\n#define \1 \3\n#endif/' \
  > "$OUT/cuda_samples/convolutionSeparable_device.cu"
echo "sources under $OUT"
