#!/usr/bin/env bash
# Issue #13's figures in one run on the GPU machine (../shared/device/README.md):
#   tools/bench/measurement_speed.sh BUILD_DIR OUT_DIR [--record]
# The cost of one configuration by phase at kernel lengths from ~1 µs to 5 ms
# (bench_measure_cost), the example rows kernels tuned exhaustively from a cold store and cubin
# cache ten times each (the issue's "under 3 s each", and the winner's stability), and `ktune
# bench` of a short kernel. With --record, also the raw sample streams behind
# tests/data/sample-streams-h200.jsonl (every configuration sampled 300 times).
set -uo pipefail
build=${1:-build-gpu}
out=${2:-/tmp/ktune-measurement-speed}
record=${3:-}
mkdir -p "$out"
scratch=$(mktemp -d)  # stores: not results
export LD_LIBRARY_PATH=$PWD/$build/device-lib:${LD_LIBRARY_PATH:-}
ktune=$build/tools/ktune

nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
date -u
echo "== cost per configuration by kernel length"
"$build"/tools/bench/bench_measure_cost --markdown 2>&1 | tee "$out/measure-cost.md"

if [ "$record" = "--record" ]; then
  echo "== recording sample streams (300 per configuration)"
  KTUNE_RUNNER_SAMPLE_LOG="$out/sample-streams.jsonl" "$build"/tools/bench/bench_measure_cost --lengths-us 1,10,100,1000 \
    --record-samples 300 > "$out/record.txt" 2>&1
  tail -6 "$out/record.txt"
fi

# Ten cold exhaustive runs each: the wall a user waits for, and whether the winner is stable.
for example in reduce_rows:M=8192,N=8192 softmax_rows:M=8192,N=4096; do
  name=${example%%:*}; size=${example#*:}
  echo "== $name exhaustive $size, cold store and cubin cache, 10 runs"
  for run in 1 2 3 4 5 6 7 8 9 10; do
    start=$(date +%s.%N)
    XDG_CACHE_HOME=$(mktemp -d) "$ktune" tune examples/$name.json -s $size --strategy exhaustive \
      --db "$scratch/$name-$run.db" --trace "$scratch/trace-$name-$run.jsonl" > "$scratch/$name-$run.txt" 2>&1
    wall=$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $start}")
    echo "run $run: process wall $wall s; $(grep -E '^best' "$scratch/$name-$run.txt" | tr -s ' ')"
    [ $run = 1 ] && cp "$scratch/trace-$name-1.jsonl" "$out/" && tail -3 "$scratch/$name-1.txt"
  done
done
echo "== ktune bench softmax_rows 4096x4096 (default configuration)"
"$ktune" bench examples/softmax_rows.json -s M=4096,N=4096 --db "$scratch/bench.db" 2>&1 | tail -4
