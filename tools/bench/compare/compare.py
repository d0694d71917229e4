#!/usr/bin/env python3
"""ktune against the tools a user would pick instead, on one GPU, in one run (docs/benchmarks.md).

    python3 tools/bench/compare/compare.py --ktune build-gpu/tools/ktune --out OUT [--quick]
           [--problems sgemm,reduce_rows,softmax_rows] [--tools ktune,kernel_tuner,triton,inductor,vendor]

Every (tool, problem) runs in its own Python process with fresh caches (cold), one after the other.
Each reports tuning wall time, configurations evaluated, its own best time and its progress (best
time against wall time); every winner is then timed the same way (measure.py) and checked against
PyTorch. Writes OUT/results.json, OUT/compare.md (the table) and OUT/progress-<problem>.png.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = ["ktune", "kernel_tuner", "triton", "inductor", "vendor"]


def run_one(tool, problem_name, out_json, options):
    """In the child process: run one tool on one problem and write its results."""
    sys.path.insert(0, str(HERE))
    from problems import PROBLEMS
    import importlib

    problem = PROBLEMS[problem_name]
    sizes = problem.quick_sizes if options["quick"] else problem.sizes
    module = importlib.import_module(f"tool_{tool}")
    workdir = Path(options["work"]) / f"{tool}-{problem_name}"
    workdir.mkdir(parents=True, exist_ok=True)
    results = module.run(problem, sizes, workdir, options)
    for r in results:
        r["problem"], r["sizes"] = problem_name, sizes
    Path(out_json).write_text(json.dumps(results, indent=1, default=float))


def derived_rate(problem_name, sizes, ms):
    """TFLOP/s for the GEMM, GB/s for the memory-bound rows (the spec's metrics)."""
    sys.path.insert(0, str(HERE))
    from ktune_spec import KernelSpec
    from problems import PROBLEMS
    spec = KernelSpec(PROBLEMS[problem_name].spec_path)
    if problem_name == "sgemm" or problem_name.startswith("cutlass_"):
        return f"{spec.metric('flops', sizes) / (ms * 1e-3) / 1e12:.1f} TFLOP/s"
    return f"{spec.metric('bytes', sizes) / (ms * 1e-3) / 1e9:.0f} GB/s"


def table(results):
    lines = ["| problem | tool | variant | tuning wall | evaluated | configs/s | best, own timer | best, common timer | rate | "
             "winner = ktune exhaustive? | correct | GPU busy (NVML) | GPU busy (tool) |",
             "|" + " --- |" * 13]
    reference = {r["problem"]: r["best_config"] for r in results
                 if r["tool"] == "ktune" and r["variant"] == "exhaustive, cold"}
    for r in results:
        same = ""
        if r["tool"] in ("ktune", "Kernel Tuner") and r.get("best_config") is not None and r["problem"] in reference:
            same = "yes" if r["best_config"] == reference[r["problem"]] else "no"
        fmt = lambda v, f: (f.format(v) if v is not None else "—")
        lines.append("| " + " | ".join([
            r["problem"], r["tool"], r["variant"], fmt(r["tuning_wall_s"], "{:.1f} s"), fmt(r["evaluated"], "{}"),
            fmt(r["configs_per_s"], "{:.2f}"), fmt(r["own_best_ns"] and r["own_best_ns"] / 1e3, "{:.1f} µs"),
            fmt(r["common_ms"] * 1e3, "{:.1f} µs"), derived_rate(r["problem"], r["sizes"], r["common_ms"]), same or "—",
            "yes" if r["correct"] else f"NO (max err {r['max_abs_err']:.2g})", fmt(r["gpu_busy_nvml"], "{:.0%}"),
            fmt(r.get("gpu_busy_reported"), "{:.0%}")]) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ktune", default="build-gpu/tools/ktune")
    parser.add_argument("--out", required=True)
    parser.add_argument("--problems", default="sgemm,reduce_rows,softmax_rows")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--quick", action="store_true", help="small sizes and a dozen configurations: checks the harness")
    parser.add_argument("--work", help="scratch folder for stores, caches and traces (default: OUT/work)")
    parser.add_argument("--timeout", type=float, default=420, help="seconds one tool may take on one problem")
    parser.add_argument("--one", nargs=3, metavar=("TOOL", "PROBLEM", "OUT_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = {"quick": args.quick, "ktune": str(Path(args.ktune).resolve()),
               "work": str(Path(args.work or Path(args.out) / "work").resolve())}
    if args.one:
        return run_one(*args.one, options)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    previous = out / "results.json"
    if previous.exists():  # several invocations (problems split over calls) add to one table
        results = [r for r in json.loads(previous.read_text())]
    for problem in args.problems.split(","):
        for tool in args.tools.split(","):
            if tool == "triton" and problem != "sgemm":
                continue
            results = [r for r in results if not (r["problem"] == problem and r.get("tool_key") == tool)]
            with tempfile.TemporaryDirectory(prefix=f"cold-{tool}-") as cold:
                env = dict(os.environ, TRITON_CACHE_DIR=f"{cold}/triton", TORCHINDUCTOR_CACHE_DIR=f"{cold}/inductor",
                           CUPY_CACHE_DIR=f"{cold}/cupy", PYTHONPATH=f"{HERE}:{os.environ.get('PYTHONPATH', '')}")
                one = out / f"{tool}-{problem}.json"
                cmd = [sys.executable, str(HERE / "compare.py"), "--ktune", options["ktune"], "--out", str(out), "--work", options["work"],
                       "--one", tool, problem, str(one)] + (["--quick"] if args.quick else [])
                started = time.perf_counter()
                print(f"[{time.strftime('%H:%M:%S')}] {problem}: {tool} ...", flush=True)
                with open(out / f"{tool}-{problem}.log", "w") as log:
                    try:
                        done = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=args.timeout)
                        status = "ok" if done.returncode == 0 else f"failed ({done.returncode}), see {log.name}"
                    except subprocess.TimeoutExpired:
                        status = f"timed out after {args.timeout:.0f} s"
                print(f"    {status} in {time.perf_counter() - started:.1f} s", flush=True)
                if status == "ok":
                    for r in json.loads(one.read_text()):
                        r["tool_key"] = tool
                        if tool == "inductor":  # how many choices max-autotune benchmarked, from its own log
                            found = re.findall(r'"num_choices": (\d+)', (out / f"{tool}-{problem}.log").read_text())
                            if found:
                                r["evaluated"] = sum(int(n) for n in found)
                                r["configs_per_s"] = r["evaluated"] / r["tuning_wall_s"]
                        results.append(r)
                        print(f"    {r['tool']} {r['variant']}: tuned in {r['tuning_wall_s']:.1f} s, "
                              f"winner {r['common_ms'] * 1e3:.1f} µs, correct={r['correct']}", flush=True)
    previous.write_text(json.dumps(results, indent=1))
    (out / "compare.md").write_text(table(results) + "\n")
    print(table(results))
    try:
        from plot import plot_progress
        for problem in sorted({r["problem"] for r in results}):
            plot_progress([r for r in results if r["problem"] == problem], out / f"progress-{problem}.png")
    except ImportError as e:
        print(f"no plots: {e}")


if __name__ == "__main__":
    main()
