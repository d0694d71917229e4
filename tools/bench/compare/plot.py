"""Tuning progress, best kernel time found against wall time, every tool on the same axes.
`python3 plot.py results.json OUTDIR` redraws the figures from a saved run."""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_progress(results, path):
    fig, ax = plt.subplots(figsize=(8, 4.8))
    problem = results[0]["problem"]
    sizes = " ".join(f"{k}={v}" for k, v in results[0]["sizes"].items())
    for r in results:
        label = f"{r['tool']} ({r['variant']})"
        if r["tuning_wall_s"] == 0:
            ax.axhline(r["common_ms"] * 1e3, linestyle="--", color="gray", label=f"{r['tool']}: {r['common_ms'] * 1e3:.0f} µs")
            continue
        trace = [p for p in r["trace"] if p[1] is not None]
        if r["tool"] == "Inductor":
            ax.plot([r["tuning_wall_s"]], [r["common_ms"] * 1e3], "D", markersize=8, label=label)
            continue
        if not trace:
            continue
        xs = [max(p[0], 1e-2) for p in trace] + [r["tuning_wall_s"]]
        ys = [p[1] / 1e3 for p in trace] + [trace[-1][1] / 1e3]
        ax.step(xs, ys, where="post", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall time since tuning started (s)")
    ax.set_ylabel("best kernel time found (µs, each tool's own timer)")
    ax.set_title(f"Tuning progress: {problem} {sizes}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    results = json.loads(Path(sys.argv[1]).read_text())
    for problem in sorted({r["problem"] for r in results}):
        plot_progress([r for r in results if r["problem"] == problem], Path(sys.argv[2]) / f"progress-{problem}.png")
