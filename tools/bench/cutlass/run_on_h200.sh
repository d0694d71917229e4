#!/usr/bin/env bash
# One pass of the CUTLASS-through-NVRTC harness on a GPU machine: compile the configurations below
# with NVRTC (in parallel), build the harness, run it (bf16 and fp16) and torch.nn.functional.linear
# on the same shapes. Usage: run_on_h200.sh CUTLASS_INCLUDE_DIR WORK_DIR [LOG]
# CUDA_HOME defaults to /usr/local/cuda.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cutlass=$1 work=$2 log=${3:-/dev/stdout}
cuda=${CUDA_HOME:-/usr/local/cuda}
nvrtc=$(ls "$cuda"/lib64/libnvrtc.so* "$cuda"/targets/x86_64-linux/lib/libnvrtc.so* 2>/dev/null | head -1)
shapes=${SHAPES:-4096x4096x4096,128x4096x4096,2048x14336x4096,8192x4096x14336}
mkdir -p "$work"
S=cutlass::gemm::KernelTmaWarpSpecialized E=cutlass::epilogue::TmaWarpSpecialized
cfg() { # name tm tn tk cm cn stages sched dtype
  local ks es
  case $8 in coop) ks=${S}Cooperative es=${E}Cooperative ;; pp) ks=${S}Pingpong es=$E ;; ws) ks=$S es=$E ;; esac
  echo "$1=TILE_M:$2,TILE_N:$3,TILE_K:$4,CLUSTER_M:$5,CLUSTER_N:$6,STAGES:$7,KERNEL_SCHEDULE:$ks,EPILOGUE_SCHEDULE:$es,DTYPE:$9"
}
BF=cutlass::bfloat16_t HF=cutlass::half_t
CONFIGS_BF16=${CONFIGS_BF16:-"coop_128x256_c2x1:128,256,64,2,1,4,coop pp_128x128_c2x1:128,128,64,2,1,5,pp coop_128x128_c1x1:128,128,64,1,1,6,coop ws_64x128_c1x1:64,128,64,1,1,8,ws coop_128x256_c1x2:128,256,64,1,2,4,coop coop_256x128_c1x2:256,128,64,1,2,4,coop"}
CONFIGS_FP16=${CONFIGS_FP16:-"coop_128x256_c2x1:128,256,64,2,1,4,coop ws_64x128_c1x1:64,128,64,1,1,8,ws"}
compile_args=() bench_bf16=() bench_fp16=()
spec_dir=$here/../../../examples/cutlass
: >"$work/geometry_bf16.txt"; : >"$work/geometry_fp16.txt"
for dt in bf16 fp16; do
  list=$CONFIGS_BF16; el=$BF; [ $dt = fp16 ] && list=$CONFIGS_FP16 && el=$HF
  for c in $list; do
    name=${c%%:*}_$dt; IFS=, read -r tm tn tk cm cn st sc <<<"${c#*:}"
    compile_args+=("$(cfg "$name" "$tm" "$tn" "$tk" "$cm" "$cn" "$st" "$sc" "$el")")
    spec=$spec_dir/gemm_sm90.json; [ $dt = fp16 ] && spec=$spec_dir/gemm_sm90_fp16.json
    python3 "$here/spec_geometry.py" "$spec" "${compile_args[-1]}" --shapes "$shapes" >>"$work/geometry_$dt.txt" || exit 1
    entry="$name=$work/$name.cubin:$tm,$tn,$tk,$cm,$cn,$st,$sc"
    if [ $dt = bf16 ]; then bench_bf16+=("$entry"); else bench_fp16+=("$entry"); fi
  done
done
{
  echo "== nvrtc $nvrtc ($(date -u +%FT%TZ))"; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
  python3 "$here/nvrtc_compile.py" --cutlass "$cutlass" --cuda "$cuda" --nvrtc "$nvrtc" --out "$work" --jobs 8 "${compile_args[@]}"
  python3 "$here/nvrtc_compile.py" --cutlass "$cutlass" --cuda "$cuda" --nvrtc "$nvrtc" --out "$work" --source "$here/../../../examples/cutlass/gemm_reference.cu" \
    ref_bf16=DTYPE:$BF ref_fp16=DTYPE:$HF
  echo "== build harness"
  g++ -std=c++20 -O2 "$here/cutlass_gemm_bench.cpp" -I"$cuda/include" -L"$cuda/lib64/stubs" -lcuda -o "$work/cutlass_gemm_bench" || exit 1
  echo "== harness ($(date -u +%FT%TZ))"
  # One process a configuration: a faulting kernel poisons its CUDA context, not the others'.
  for b in "${bench_bf16[@]}"; do timeout 90 "$work/cutlass_gemm_bench" --reference "$work/ref_bf16.cubin" --dtype bf16 --shapes "$shapes" --geometry "$work/geometry_bf16.txt" "$b"; done
  for b in "${bench_fp16[@]}"; do timeout 90 "$work/cutlass_gemm_bench" --reference "$work/ref_fp16.cubin" --dtype fp16 --shapes "$shapes" --geometry "$work/geometry_fp16.txt" "$b"; done
  echo "== torch"
  python3 "$here/torch_linear_bench.py" --dtype bf16 --shapes "$shapes"
  python3 "$here/torch_linear_bench.py" --dtype fp16 --shapes "$shapes"
} >"$log" 2>&1
