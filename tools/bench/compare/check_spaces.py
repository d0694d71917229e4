#!/usr/bin/env python3
"""Checks that ktune_spec.py enumerates exactly ktune's valid configurations (the harness gives
Kernel Tuner "the same space" through it): every example spec, without sizes and at sizes that
make size constraints bite. Run by ctest as Compare.SpecSpaceMatchesKtune.

    python3 check_spaces.py path/to/ktune
"""
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ktune_spec import KernelSpec  # noqa: E402

EXAMPLES = HERE.parents[2] / "examples"
SIZES = {
    "sgemm.json": ["M=4096,N=4096,K=4096", "M=100,N=60,K=7"],
    "hgemm_mma.json": ["M=4096,N=4096,K=4096", "M=64,N=64,K=60"],
    "reduce_rows.json": ["M=8192,N=8192"],
    "softmax_rows.json": ["M=8192,N=4096"],
    "stencil2d.json": ["H=4096,W=4096", "H=4000000,W=64"],
    "transpose.json": ["M=1000,N=100"],
}


def ktune_count(ktune, spec, size):
    cmd = [ktune, "space", str(spec), "--json"] + (["--size", size] if size else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return 0 if "no configuration satisfies" in done.stderr else f"error: {done.stderr.strip()}"
    return json.loads(done.stdout)["valid"]


def main():
    ktune = sys.argv[1]
    specs = sorted(EXAMPLES.glob("*.json"))
    if not specs:
        sys.exit(f"no example specs in {EXAMPLES}")
    failures = 0
    for spec_path in specs:
        spec = KernelSpec(spec_path)
        for size in [None] + SIZES.get(spec_path.name, []):
            sizes = {k: int(v) for k, v in (i.split("=") for i in size.split(","))} if size else {}
            ours, theirs = sum(1 for _ in spec.valid_configs(sizes)), ktune_count(ktune, spec_path, size)
            verdict = "ok" if ours == theirs else "MISMATCH"
            failures += ours != theirs
            print(f"{verdict:8} {spec_path.name:18} {size or '(no sizes)':24} python {ours:5}  ktune {theirs}")
    if failures:
        sys.exit(f"{failures} mismatches: ktune_spec.py no longer enumerates ktune's space")
    print("all spaces match")


if __name__ == "__main__":
    main()
