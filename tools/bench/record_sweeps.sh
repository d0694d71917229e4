#!/usr/bin/env bash
# Records exhaustive sweeps of the example SGEMM for the replay tests (tests/data/h100-sgemm.db):
#   tools/bench/record_sweeps.sh BUILD_DIR OUT_DB
set -uo pipefail
build=${1:-build-gpu}
db=${2:-/tmp/h100-sgemm.db}
export LD_LIBRARY_PATH=$PWD/$build/device-lib:${LD_LIBRARY_PATH:-}
for size in M=4096,N=4096,K=4096 M=1024,N=1024,K=1024 M=2048,N=2048,K=2048 M=4096,N=4096,K=1024; do
  "$build"/tools/ktune tune examples/sgemm.json -s $size --strategy exhaustive --db "$db" | tail -3
done
