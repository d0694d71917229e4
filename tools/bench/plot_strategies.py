#!/usr/bin/env python3
"""Plots the strategy benchmark (tools/bench/bench_strategies --csv FILE): mean fraction of the
recorded optimum against the evaluation budget, one panel per recorded space, one line per strategy.

    build/tools/bench/bench_strategies --seeds 10 --budgets 25,50,100,200,400 --csv strategies.csv
    python3 tools/bench/plot_strategies.py strategies.csv docs/benchmarks/strategies.png
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    curves = defaultdict(lambda: defaultdict(list))  # space -> strategy -> [(budget, mean, min)]
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            budget = int(row["budget"])
            if budget == 0:  # "unlimited" has no place on a budget axis
                continue
            curves[row["space"]][row["strategy"]].append((budget, float(row["mean_quality"]), float(row["min_quality"])))
    spaces = sorted(curves)
    cols = 4
    rows = (len(spaces) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, space in zip(axes.flat, spaces):
        for strategy, points in sorted(curves[space].items()):
            points.sort()
            budgets = [p[0] for p in points]
            ax.plot(budgets, [p[1] for p in points], marker="o", label=strategy)
            ax.fill_between(budgets, [p[2] for p in points], [p[1] for p in points], alpha=0.12)
        ax.axhline(0.98, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xticks(budgets, [str(b) for b in budgets])
        ax.minorticks_off()
        ax.set_title(space, fontsize=9)
        ax.set_xlabel("evaluations (budget)")
        ax.set_ylim(0, 1.02)
    for ax in axes.flat[len(spaces):]:
        ax.axis("off")
    axes[0][0].set_ylabel("fraction of the optimum (mean; band: worst seed)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Strategies on recorded spaces (replayed, 10 seeds)", fontsize=11)
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot_strategies.py STRATEGIES.csv OUT.png")
    main(sys.argv[1], sys.argv[2])
