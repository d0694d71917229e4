#!/usr/bin/env bash
# Compile time of a CUTLASS Hopper GEMM space through the worker pool, no GPU needed (`ktune
# compile`, cold: no cubin cache, no NVRTC cache). Two parts:
#   1. per configuration on one worker, with and without precompiled headers (the first
#      configuration of a worker creates the PCH, the others use it);
#   2. the whole space over 1, 2, 4, ... workers (with PCH): wall time, configs/s, and the
#      fraction of linear scaling against 1 worker.
#
#   tools/bench/cutlass_compile.sh [BUILD_DIR]    (env: WORKERS="1 2 4 8 16", SPEC=..., SAMPLE=N,
#                                                 PART=1|2|all, TIMEOUT=600)
#
# The CUTLASS headers come from third_party/cutlass (tools/packages/install-packages.sh); on a
# machine with no network, carry the tree's third_party/ folder with the build (or point
# KTUNE_PACKAGES_DIR at a copy). Uses the build's ktune and ktune-worker; a private cache folder
# (XDG_CACHE_HOME) so no earlier cubin or PCH is reused.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
ktune="$build/tools/ktune"
spec="${SPEC:-$root/tools/bench/cutlass/gemm_compile.json}"
workers="${WORKERS:-1 2 4 8 16}"
part="${PART:-all}"
timeout="${TIMEOUT:-600}"
sample=()
[[ -n ${SAMPLE:-} ]] && sample=(--sample "$SAMPLE")
[[ -x $ktune ]] || { echo "cutlass_compile: no $ktune (build ktune_cli and ktune-worker first)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_CACHE_HOME="$scratch/cache"
export HOME="$scratch/home"  # NVRTC's own cache (~/.nv/ComputeCache) stays out of the way too
mkdir -p "$HOME"

echo "host: $(hostname), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(uptime | sed 's/.*load average/load average/')"
echo "spec: $spec"

# One `ktune compile` run; prints "<wall s> <configs> <NVRTC s summed>".
run() {
  local out start end
  start=$(date +%s.%N)
  out=$("$ktune" compile "$spec" --no-check --no-cache --no-nvrtc-cache --timeout "$timeout" "${sample[@]}" "$@" 2>&1) || {
    echo "$out" >&2
    return 1
  }
  end=$(date +%s.%N)
  local configs nvrtc
  configs=$(echo "$out" | sed -n 's/.*: \([0-9]*\) of [0-9]* configurations compiled.*/\1/p' | head -1)
  nvrtc=$(echo "$out" | sed -n 's/.*NVRTC time \([0-9.]*\) s total.*/\1/p' | head -1)
  awk -v a="$start" -v b="$end" -v c="${configs:-0}" -v n="${nvrtc:-0}" 'BEGIN { printf "%.2f %d %.2f\n", b - a, c, n }'
}

if [[ $part == all || $part == 1 ]]; then
  echo "== per configuration, 1 worker (NVRTC seconds per configuration; first = creates the PCH)"
  for mode in no-pch pch; do
    flag=()
    [[ $mode == pch ]] && flag=(--pch)
    read -r wall configs nvrtc < <(run -j 1 "${flag[@]}")
    printf '%-7s %2d configs  wall %7.1f s  NVRTC %7.1f s  %6.2f s per configuration\n' \
      "$mode" "$configs" "$wall" "$nvrtc" "$(awk -v n="$nvrtc" -v c="$configs" 'BEGIN { print (c > 0 ? n / c : 0) }')"
  done
fi

if [[ $part == all || $part == 2 ]]; then
  echo "== the space over N workers (no PCH; PCH=1 adds --pch)"
  base=""
  for n in $workers; do
    pch=()
    [[ ${PCH:-0} == 1 ]] && pch=(--pch)
    read -r wall configs nvrtc < <(run -j "$n" "${pch[@]}")
    [[ -z $base ]] && base=$wall && base_n=$n
    eff=$(awk -v b="$base" -v bn="$base_n" -v w="$wall" -v n="$n" 'BEGIN { print 100 * b * bn / (w * n) }')
    printf '%2d workers  %2d configs  wall %7.1f s  %5.2f configs/s  %5.1f %% of linear\n' \
      "$n" "$configs" "$wall" "$(awk -v c="$configs" -v w="$wall" 'BEGIN { print c / w }')" "$eff"
  done
fi
