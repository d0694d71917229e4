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
  if $ktune tune --help >/dev/null 2>&1; then
    echo "== ktune tune $spec --size $sizes"
    $ktune tune "$spec" --size "$sizes"
    exit 0
  fi
  echo "== this build has no 'ktune tune' yet (the Tuner and engine issue); doing what it can"
  device=()
else
  echo "== no GPU on this machine: tuning needs one. Doing what can be done without it."
  device=(--device "NVIDIA H100 80GB HBM3" --arch sm_90)
fi
echo "== ktune key $spec --size $sizes ${device[*]}"
$ktune key "$spec" --size "$sizes" "${device[@]}"
echo "== ktune compile $spec"
$ktune compile "$spec"
