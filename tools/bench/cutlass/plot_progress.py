#!/usr/bin/env python3
"""Progress of `ktune tune` on the CUTLASS GEMM: the best configuration's TFLOP/s against tuning wall time, one
line per shape, with torch.nn.functional.linear (cuBLAS) at that shape as a dashed line of the same colour.

    plot_progress.py --out docs/benchmarks/cutlass-progress-h200.png --torch TORCH_LOG TRACE [TRACE ...]

TRACE: `ktune tune --trace` files named trace-M-N-K.jsonl (gpu7a.sh writes them); TORCH_LOG: the output of
torch_linear_bench.py (lines "RESULT bf16 torch.linear MxNxK median X ms Y TFLOP/s").
"""
import argparse
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--torch", required=True)
    ap.add_argument("--title", default="ktune tuning CUTLASS sm90 GEMM (bf16) through NVRTC, NVIDIA H200")
    ap.add_argument("traces", nargs="+")
    a = ap.parse_args()
    torch_tflops = {}
    for line in Path(a.torch).read_text().splitlines():
        m = re.match(r"RESULT \S+ torch.linear (\d+)x(\d+)x(\d+) median \S+ ms (\S+) TFLOP/s", line)
        if m:
            torch_tflops[tuple(map(int, m.groups()[:3]))] = float(m.group(4))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for i, path in enumerate(a.traces):
        shape = tuple(int(x) for x in re.findall(r"(\d+)-(\d+)-(\d+)", Path(path).name)[0])
        flops = 2.0 * shape[0] * shape[1] * shape[2]
        xs, ys = [], []
        for line in Path(path).read_text().splitlines():
            r = json.loads(line)
            if r.get("best_ns"):
                xs.append(r["seconds"])
                ys.append(flops / r["best_ns"] / 1e3)
        colour = f"C{i}"
        label = "x".join(map(str, shape))
        ax.step(xs, ys, where="post", color=colour, label=f"ktune {label}")
        if shape in torch_tflops:
            ax.axhline(torch_tflops[shape], color=colour, linestyle="--", linewidth=0.8)
            ax.axhline(0.9 * torch_tflops[shape], color=colour, linestyle=":", linewidth=0.6)
    ax.set_xlabel("tuning wall time (s), compiles included")
    ax.set_ylabel("best so far (TFLOP/s)")
    ax.set_title(a.title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right", title="dashed: torch.linear; dotted: 90 %", title_fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
