#!/usr/bin/env bash
# Issue #18's figure: how much faster a sweep finishes on N MPI ranks, or in N job-array shards
# merged afterwards, than on one — on a CPU, with replayed runs that each cost what a GPU would
# spend (--simulated-cost sleeps per evaluated configuration, so it scales on any core count):
#   tools/bench/sweep_scaling.sh [BUILD_DIR] [COST_MS] [RANKS...]      (defaults: build 50 1 2 4 8)
# The sweep: examples/sgemm.cu in 27 spaces with disjoint configurations (BK x TM x TN fixed per
# space, so no run is answered by another's measurements and the work is the same however it is
# split) at the 4 sizes recorded in tests/data/h100-sgemm.db: 108 exhaustive runs, 2-9
# configurations each. 12 of them fail at every N (every configuration of theirs was recorded as
# pruned: a result, reported, not a fault). Every result store must hold the one-rank run's winners;
# the script checks it.
set -euo pipefail
# One host: --mca pml ob1 (shared memory) skips UCX's start-up probing (0.7 s a launch here); on a
# cluster with InfiniBand, leave the default. --mca odls_base_sigkill_timeout 0: the sweep exits 1
# (its failed runs), and on a non-zero exit mpirun "aborts the job", waiting 1 s twice for processes
# that have already ended — 2 s of every N's wall that is mpirun's, not the sweep's (docs/sweep.md).
# Each mode is compared with its own one-process wall: MPI with mpirun -n 1, shards with 1 shard.
build=${1:-build}
cost=${2:-50}
shift $(( $# > 2 ? 2 : $# ))
counts=("$@")
((${#counts[@]})) || counts=(1 2 4 8)
root=$(cd "$(dirname "$0")/../.." && pwd)
ktune=$root/$build/tools/ktune
recording=$root/tests/data/h100-sgemm.db
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -z "${KEEP:-}" ] || trap - EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

python3 - "$root" "$work" <<'PY'
import json, sys
root, work = sys.argv[1], sys.argv[2]
spec = json.load(open(f"{root}/examples/sgemm.json"))
spec["source"] = f"{root}/examples/sgemm.cu"
sizes = [{"M": 1024, "N": 1024, "K": 1024}, {"M": 2048, "N": 2048, "K": 2048},
         {"M": 4096, "N": 4096, "K": 1024}, {"M": 4096, "N": 4096, "K": 4096}]
items = []
for bk in (8, 16, 32):
    for tm in (2, 4, 8):
        for tn in (2, 4, 8):
            s = dict(spec, params=dict(spec["params"], BK=[bk], TM=[tm], TN=[tn]),
                     default=dict(spec["default"], BK=bk, TM=tm, TN=tn))
            name = f"sgemm-bk{bk}-tm{tm}-tn{tn}.json"
            json.dump(s, open(f"{work}/{name}", "w"))
            items.append({"spec": name, "sizes": sizes})
json.dump({"ktune_sweep": 1, "strategy": "exhaustive", "items": items}, open(f"{work}/sweep.json", "w"))
PY
sweep=$work/sweep.json
replay=(--replay "$recording" --simulated-cost "$cost")

winners() { "$ktune" export --db "$1" | python3 -c '
import json, sys
print(json.dumps(sorted((e["tuning_key"], e["config"], e["time_ns"]) for e in json.load(sys.stdin)["entries"])))'; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
now() { date +%s.%N; }

echo "$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), simulated cost $cost ms per configuration"
runs=$("$ktune" sweep "$sweep" --check --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"])')
echo "sweep: $runs runs"
baseline=""
shard_baseline=""
reference=""
printf '| N | MPI ranks: wall | speed-up | of N | shards + merge: wall | speed-up | of N |\n|---|---|---|---|---|---|---|\n'
for n in "${counts[@]}"; do
  start=$(now)
  # Exit status 1: some runs failed — the same ones at every N (see the header), so it is not checked here.
  mpirun --oversubscribe --mca mpi_yield_when_idle 1 --mca pml ob1 --mca odls_base_sigkill_timeout 0 -n "$n" "$ktune" sweep "$sweep" "${replay[@]}" --db "$work/mpi-$n.db" \
    > "$work/mpi-$n.log" 2>&1 || true
  grep -q "^$runs runs: " "$work/mpi-$n.log" || { echo "the $n-rank sweep did not finish: $work/mpi-$n.log" >&2; exit 1; }
  mpi=$(seconds "$start" "$(now)")
  start=$(now)
  stores=()
  for k in $(seq 1 "$n"); do
    { "$ktune" sweep "$sweep" "${replay[@]}" --shard "$k/$n" --db "$work/shard-$n-$k.db" > "$work/shard-$n-$k.log" 2>&1 || true; } &
    stores+=("$work/shard-$n-$k.db")
  done
  wait
  "$ktune" merge "${stores[@]}" --into "$work/shards-$n.db" > /dev/null
  shards=$(seconds "$start" "$(now)")
  [ -n "$baseline" ] || baseline=$mpi
  [ -n "$shard_baseline" ] || shard_baseline=$shards
  [ -n "$reference" ] || reference=$(winners "$work/mpi-$n.db")
  for db in "$work/mpi-$n.db" "$work/shards-$n.db"; do
    [ "$(winners "$db")" = "$reference" ] || { echo "$db: not the one-rank winners" >&2; exit 1; }
  done
  python3 -c "
import sys
n, base, mpi, shard_base, shards = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f'| {n} | {mpi:.1f} s | {base / mpi:.2f}x | {base / mpi / n:.2f} | {shards:.1f} s | {shard_base / shards:.2f}x | {shard_base / shards / n:.2f} |')
" "$n" "$baseline" "$mpi" "$shard_baseline" "$shards"
done
echo "every store holds the one-rank run's $runs winners"
