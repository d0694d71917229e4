#!/usr/bin/env bash
# The GPU figures of docs/benchmarks.md, in one run on the GPU machine (see ../shared/device/README.md):
#   tools/bench/gpu_figures.sh BUILD_DIR OUT_DIR
# Cold store and cold cubin cache (a fresh XDG_CACHE_HOME), then warm; exhaustive sweeps recorded
# into OUT_DIR/h100-sgemm.db for the replay tests; runner repeatability, CUPTI vs events, overhead.
set -uo pipefail
build=${1:-build-gpu}
out=${2:-/tmp/ktune-figures}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/$build/device-lib:${LD_LIBRARY_PATH:-}
export XDG_CACHE_HOME=$(mktemp -d)
ktune=$build/tools/ktune
spec=examples/sgemm.json
big=M=4096,N=4096,K=4096

nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
echo "== gpu tests"
"$build"/tests/test_gpu_driver --gtest_brief=1 2>&1 | tail -2
"$build"/tests/test_gpu_runner --gtest_brief=1 2>&1 | grep -E "copy of|FAILED|PASSED|Failure|Which|Expected|actual" | head -30

echo "== exhaustive, cold store and cold cubin cache, $big"
"$ktune" tune $spec -s $big --strategy exhaustive --db "$out/h100-sgemm.db" 2>&1 | tail -4
echo "== exhaustive again: cubin cache warm, fresh store"
"$ktune" tune $spec -s $big --strategy exhaustive --db "$out/warm.db" 2>&1 | tail -4
echo "== coordesc (default strategy), fresh store, cubin cache cold"
XDG_CACHE_HOME=$(mktemp -d) "$ktune" tune $spec -s $big --db "$out/coordesc.db" 2>&1 | tail -4
echo "== lookup after tuning"
"$ktune" lookup $spec -s $big --db "$out/h100-sgemm.db"
"$ktune" lookup $spec -s M=3000,N=4096,K=4096 --db "$out/h100-sgemm.db"
for size in M=1024,N=1024,K=1024 M=2048,N=2048,K=2048 M=4096,N=4096,K=1024; do
  echo "== exhaustive $size (recording)"
  "$ktune" tune $spec -s $size --strategy exhaustive --db "$out/h100-sgemm.db" 2>&1 | tail -3
done
echo "== replay of the recording: coordesc vs exhaustive"
dev=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
for size in $big M=1024,N=1024,K=1024 M=2048,N=2048,K=2048 M=4096,N=4096,K=1024; do
  "$ktune" replay $spec -s $size --from "$out/h100-sgemm.db" --device "$dev" --arch sm_90 | tail -2
done
echo "== repeatability: default config, 10 separate runs (process each), $big"
for i in $(seq 10); do "$ktune" bench $spec -s $big --db "$out/bench.db" --json | grep -E '"median_ns"' ; done
echo "== CUPTI vs CUDA events"
for size in M=128,N=128,K=128 M=2048,N=2048,K=2048; do
  for timer in cupti events; do
    echo "-- $size $timer"; "$ktune" bench $spec -s $size --timer $timer --db "$out/bench.db" | sed -n 2p
  done
done
echo "== overhead per measured configuration, ~50 us kernel"
for c in BM=64 BM=128 BM=32; do "$ktune" bench $spec -s M=512,N=512,K=512 -c $c --db "$out/bench.db" | sed -n 2,3p; done
"$ktune" show --db "$out/h100-sgemm.db" | head -12
"$ktune" export --db "$out/h100-sgemm.db" > "$out/h100-sgemm-table.json"
ls -la "$out"
