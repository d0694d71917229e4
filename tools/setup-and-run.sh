#!/usr/bin/env bash
# Installs the dependencies, builds ktune (Release), and runs the main job on the example GEMM:
# tune it where there is a GPU; where there is none, say so and do what can be done here
# (inspect the space, compute its keys, compile every configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKTUNE_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
ktune=build-release/tools/ktune
spec=examples/sgemm.json
sizes=M=4096,N=4096,K=4096

echo "== ktune doctor"
$ktune doctor || true
echo "== ktune space $spec --size $sizes"
$ktune space "$spec" --size "$sizes"

if $ktune doctor | grep -q "^  ok    GPU 0"; then
  echo "== ktune tune $spec --size $sizes"
  $ktune tune "$spec" --size "$sizes"
  echo "== ktune lookup $spec --size $sizes"
  $ktune lookup "$spec" --size "$sizes"
  exit 0
fi

echo "== no GPU on this machine: tuning needs one. Doing what can be done without it."
h100=(--device "NVIDIA H100 80GB HBM3" --arch sm_90)
echo "== ktune key $spec --size $sizes (for an H100)"
$ktune key "$spec" --size "$sizes" "${h100[@]}"
echo "== ktune compile $spec (every configuration, real NVRTC, sm_90)"
$ktune compile "$spec" --arch sm_90
echo "== ktune replay: coordinate descent on an exhaustive sweep recorded on an H100 (tests/data)"
$ktune replay "$spec" --size "$sizes" --from tests/data/h100-sgemm.db "${h100[@]}"
echo "== ktune lookup with the lookup table exported from that H100 sweep (tests/data/h100-sgemm-table.json)"
db=$(mktemp -d)/ktune.db
$ktune import tests/data/h100-sgemm-table.json --db "$db"
$ktune lookup "$spec" --size "$sizes" "${h100[@]}" --db "$db"
