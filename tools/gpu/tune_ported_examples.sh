#!/bin/sh
# Tunes every ported third-party example (examples/ported.txt: benchmark_hub, cuda-samples, Kernel Tuner's expdist)
# on the first GPU with a small budget, verification on, in a scratch store (nothing is added to your own), and prints
# one line per example: valid configurations, evaluated, how they ended (ok / wrong_result / ...), best time, and
# what the outputs were verified against. Exit status 1 if any example fails to tune or has no correct configuration.
#   tools/gpu/tune_ported_examples.sh [KTUNE] [BUDGET] [SECONDS]
# KTUNE defaults to build/tools/ktune; BUDGET (default 24) caps the evaluations, SECONDS (default 25) the tuning time
# of each example (all eleven: about 3-5 minutes on one H200, at most ~11 x 25 s plus data set-up). Needs python3 (to read ktune's --json). Run from the repository root.
set -u
KTUNE=${1:-build/tools/ktune}
BUDGET=${2:-24}
SECONDS_EACH=${3:-25}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ktune-ported.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
status=0
printf '%-50s %7s %5s %-34s %12s  %s\n' example valid eval "status counts" "best (ms)" "verified against"
grep -v "^#" examples/ported.txt | while read -r spec sizes _ci_sample; do
  [ -n "$spec" ] || continue
  valid=$("$KTUNE" space "examples/$spec" --size "$sizes" 2>&1 | awk '$1 == "valid" { print $2 }')
  if ! "$KTUNE" tune "examples/$spec" --size "$sizes" --budget "$BUDGET" --time "$SECONDS_EACH" --force --json \
       --db "$SCRATCH/ktune.db" --no-cubin-cache > "$SCRATCH/out.json" 2> "$SCRATCH/err.txt"; then
    printf '%-50s %7s  FAILED: %s\n' "$spec" "$valid" "$(tail -n 3 "$SCRATCH/err.txt" | tr '\n' ' ')"
    echo 1 > "$SCRATCH/failed"
    continue
  fi
  python3 - "$spec" "$valid" "$SCRATCH/out.json" "$SCRATCH/failed" <<'PY'
import json, sys
spec, valid, path, failed = sys.argv[1:5]
r = json.load(open(path))
counts = " ".join(f"{k}={v}" for k, v in sorted(r.get("by_status", {}).items()))
best = r.get("best_ns")
print(f"{spec:50s} {valid:>7s} {r.get('evaluated', 0):5d} {counts:34s} {best / 1e6 if best else float('nan'):12.4f}  {r.get('verified_against', '')}")
if not best or not r.get("by_status", {}).get("ok"):
    open(failed, "w").write("1")
PY
done
[ -f "$SCRATCH/failed" ] && status=1
exit $status
