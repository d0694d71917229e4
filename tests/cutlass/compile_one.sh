#!/usr/bin/env bash
# One configuration of the CUTLASS Hopper GEMM (tools/bench/cutlass/gemm_compile.json) through
# `ktune compile`: the @cutlass package resolves, the NVRTC shim and options make CUTLASS 4.2 compile
# under NVRTC, the worker precompiles the header prefix. ~16 s CPU and ~1.5 GB on a quiet core
# (more on a loaded one): ctest label `cutlass` (`ctest -LE cutlass` leaves it out). Skips (exit 77)
# where the package is not installed (tools/packages/install-packages.sh).
#   compile_one.sh KTUNE SOURCE_DIR
set -euo pipefail
ktune=$1
root=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
spec=$root/tools/bench/cutlass/gemm_compile.json
status=0
out=$(XDG_CACHE_HOME=$scratch/cache "$ktune" compile "$spec" --no-check --sample 1 --strict --no-cache --no-nvrtc-cache \
  --timeout 600 -j 1 --warnings 2>&1) || status=$?
echo "$out"
if ((status != 0)) && grep -q "package @cutlass is not installed" <<<"$out"; then exit 77; fi
exit $status
