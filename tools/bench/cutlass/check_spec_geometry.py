#!/usr/bin/env python3
"""The CUTLASS specs' launch and tensor-map formulas against what CUTLASS itself computes.

EXPECTED holds what tools/bench/cutlass/print_cute_tma.cu printed (CUTLASS 4.2.0.0's own host path,
cuTensorMapEncodeTiled interposed; 2026-11-29) for four configurations of examples/cutlass/gemm_sm90.cu,
converted from bytes to elements. spec_geometry.py evaluates examples/cutlass/gemm_sm90*.json with
ktune's expression grammar; every field must match (shared memory: at least CUTLASS's
SharedStorageSize and at most 1 KiB more). These configurations also ran on an H200 with exactly this
geometry and matched the reference (docs/benchmarks.md). Run by ctest as Cutlass.SpecGeometryMatchesCute.
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parents[2] / "examples" / "cutlass"
S, E = "cutlass::gemm::KernelTmaWarpSpecialized", "cutlass::epilogue::TmaWarpSpecialized"

# config, shape -> grid, block, shared memory (CUTLASS's SharedStorageSize), cluster,
# then per map (A, W, D): dims, strides (elements), box, swizzle.
EXPECTED = [
    (f"coop_128x256_c2x1=KERNEL_SCHEDULE:{S}Cooperative,EPILOGUE_SCHEDULE:{E}Cooperative,TILE_M:128,TILE_N:256,"
     "CLUSTER_M:2,CLUSTER_N:1,STAGES:4", "2048x14336x4096",
     [132, 1, 1], 384, 214016, [2, 1],
     [([4096, 2048, 1], [4096, 8388608], [64, 128, 1], 128),
      ([4096, 14336, 1], [4096, 58720256], [64, 128, 1], 128),
      ([14336, 2048, 1], [14336, 29360128], [32, 128, 1], 64)]),
    (f"pp_128x128_c1x2=KERNEL_SCHEDULE:{S}Pingpong,EPILOGUE_SCHEDULE:{E},TILE_M:128,TILE_N:128,"
     "CLUSTER_M:1,CLUSTER_N:2,STAGES:5", "2048x14336x4096",
     [66, 2, 1], 384, 173056, [1, 2],
     [([4096, 2048, 1], [4096, 8388608], [64, 64, 1], 128),
      ([4096, 14336, 1], [4096, 58720256], [64, 128, 1], 128),
      ([14336, 2048, 1], [14336, 29360128], [32, 64, 1], 64)]),
    (f"ws_128x128_c2x2=KERNEL_SCHEDULE:{S},EPILOGUE_SCHEDULE:{E},TILE_M:128,TILE_N:128,"
     "CLUSTER_M:2,CLUSTER_N:2,STAGES:4", "128x4096x4096",
     [2, 32, 1], 256, 131584, [2, 2],
     [([4096, 128, 1], [4096, 524288], [64, 64, 1], 128),
      ([4096, 4096, 1], [4096, 16777216], [64, 64, 1], 128),
      ([4096, 128, 1], [4096, 524288], [32, 64, 1], 64)]),
    (f"coop_128x128_c1x1=KERNEL_SCHEDULE:{S}Cooperative,EPILOGUE_SCHEDULE:{E}Cooperative,TILE_M:128,TILE_N:128,"
     "CLUSTER_M:1,CLUSTER_N:1,STAGES:6", "4096x4096x4096",
     [132, 1, 1], 384, 214016, [1, 1],
     [([4096, 4096, 1], [4096, 16777216], [64, 128, 1], 128),
      ([4096, 4096, 1], [4096, 16777216], [64, 128, 1], 128),
      ([4096, 4096, 1], [4096, 16777216], [32, 128, 1], 64)]),
]


def main():
    failures = 0
    for spec_name in ("gemm_sm90.json", "gemm_sm90_fp16.json"):
        for config, shape, grid, block, smem, cluster, maps in EXPECTED:
            done = subprocess.run([sys.executable, str(HERE / "spec_geometry.py"), str(SPECS / spec_name), config,
                                   "--shapes", shape], capture_output=True, text=True)
            name = f"{spec_name} {config.split('=')[0]} {shape}"
            if done.returncode != 0:
                print(f"FAIL {name}: {done.stderr.strip()}")
                failures += 1
                continue
            got = [int(x) for x in done.stdout.split()[4:]]
            problems = []
            if got[0:3] != grid:
                problems.append(f"grid {got[0:3]} != CUTLASS's {grid}")
            if got[3] != block:
                problems.append(f"block {got[3]} != {block}")
            if not smem <= got[4] <= smem + 1024:
                problems.append(f"shared memory {got[4]} not in [{smem}, {smem + 1024}]")
            if got[5:7] != cluster:
                problems.append(f"cluster {got[5:7]} != {cluster}")
            for i, (dims, strides, box, swizzle) in enumerate(maps):
                at = 7 + 9 * i
                mine = (got[at:at + 3], got[at + 3:at + 5], got[at + 5:at + 8], got[at + 8])
                if mine != (dims, strides, box, swizzle):
                    problems.append(f"tma_{'AWD'[i]} {mine} != CuTe's {(dims, strides, box, swizzle)}")
            print(("ok   " if not problems else "FAIL ") + name + ("" if not problems else ": " + "; ".join(problems)))
            failures += bool(problems)
    if failures:
        sys.exit(f"{failures} configurations differ from CUTLASS")
    print("all geometries match CUTLASS")


if __name__ == "__main__":
    main()
