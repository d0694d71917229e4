#!/usr/bin/env bash
# Compile-only soak: a compile pool kept busy for DURATION seconds (default 600) with real NVRTC
# compiles, a worker crash every 50th job and a compile error every 37th, sampling every 10 s the
# process's RSS and open descriptors and the workers' count and RSS. Memory and descriptors must
# stay flat. Writes the samples as CSV and prints a summary (workers/bench/bench_soak_compile.cpp).
#   tools/bench/soak_compile.sh [BUILD_DIR] [DURATION_S] [extra args, e.g. --workers 4 --csv FILE]
# Needs no GPU. On a shared machine run it under `nice -n 10`: throughput is then low, but what
# is judged is whether memory and descriptors stay flat.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
duration="${2:-600}"
shift $(( $# > 2 ? 2 : $# ))
if [[ ! -x "$build/workers/bench/bench_soak_compile" || ! -x "$build/tools/ktune-worker" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target bench_soak_compile ktune-worker
fi
csv="soak-compile-$(date -u +%Y%m%dT%H%M%SZ).csv"
echo "host: $(hostname), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), ${duration} s"
exec "$build/workers/bench/bench_soak_compile" --seconds "$duration" --interval 10 --csv "$csv" \
  --worker "$build/tools/ktune-worker" "$@"
