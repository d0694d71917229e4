#!/usr/bin/env bash
# The GPU figures of docs/benchmarks.md in one run on the GPU machine (../shared/device/README.md):
#   tools/bench/gpu_figures.sh BUILD_DIR OUT_DIR
# Cold store and cold cubin cache (a fresh XDG_CACHE_HOME), then warm; every example tuned
# exhaustively (every configuration verified against the default); the runner's timers and
# per-configuration overhead; repeatability across separate processes.
set -uo pipefail
build=${1:-build-gpu}
out=${2:-/tmp/ktune-figures}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/$build/device-lib:${LD_LIBRARY_PATH:-}
export XDG_CACHE_HOME=$(mktemp -d)
ktune=$build/tools/ktune
big=M=4096,N=4096,K=4096

nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
date -u
echo "== gpu tests"
"$build"/tests/test_gpu_driver --gtest_brief=1 2>&1 | tail -1
"$build"/tests/test_gpu_runner --gtest_brief=1 2>&1 | grep -E "copy of|FAILED|PASSED|Failure|Which|Expected|actual" | head -30

echo "== sgemm exhaustive, cold store and cold cubin cache, $big, 16 workers"
"$ktune" tune examples/sgemm.json -s $big --strategy exhaustive --db "$out/cold.db" 2>&1 | tail -3
echo "== sgemm exhaustive again: cubin cache warm, fresh store"
"$ktune" tune examples/sgemm.json -s $big --strategy exhaustive --db "$out/warm.db" 2>&1 | tail -3
echo "== sgemm coordesc (the default strategy), fresh store, cold cubin cache"
XDG_CACHE_HOME=$(mktemp -d) "$ktune" tune examples/sgemm.json -s $big --db "$out/coordesc.db" 2>&1 | tail -3
echo "== lookup"
"$ktune" lookup examples/sgemm.json -s $big --db "$out/cold.db"

for example in reduce_rows:M=8192,N=8192 softmax_rows:M=8192,N=4096 transpose:M=8192,N=8192 stencil2d:H=8192,W=8192 hgemm_mma:M=4096,N=4096,K=4096; do
  name=${example%%:*}; size=${example#*:}
  echo "== $name exhaustive $size"
  "$ktune" tune examples/$name.json -s $size --strategy exhaustive --db "$out/examples.db" 2>&1 | tail -3
done

echo "== CUPTI vs CUDA events"
for case in reduce_rows:M=1024,N=1024 sgemm:M=2048,N=2048,K=2048; do
  name=${case%%:*}; size=${case#*:}
  for timer in cupti events; do
    echo "-- $name $size $timer"; "$ktune" bench examples/$name.json -s $size --timer $timer --db "$out/bench.db" | sed -n 2p
  done
done
echo "== overhead per measured configuration (load, verify, warm-up, samples, statistics)"
"$ktune" bench examples/softmax_rows.json -s M=4096,N=4096 --db "$out/bench.db" | sed -n 2,3p
"$ktune" bench examples/sgemm.json -s M=512,N=512,K=512 --db "$out/bench.db" | sed -n 2,3p
echo "== repeatability: sgemm default, 10 separate processes, $big"
for i in $(seq 10); do "$ktune" bench examples/sgemm.json -s $big --db "$out/bench.db" --json | grep '"median_ns"'; done
"$ktune" show --db "$out/examples.db"
