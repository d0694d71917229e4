#!/usr/bin/env python3
"""The goals of issue #17, measured on a GPU in one run (docs/python.md, "Goals"):

(a) a Kernel Tuner example script end to end (process start to answer, the same work: every
    configuration, cold caches) with Kernel Tuner and with ktune (only the import changed), each in
    its own subprocess, alternating, REPEATS times; goal: ktune at least 3x faster.
(b) the launcher's cost per call: a ktune.Kernel call vs a cupy.RawKernel launch of the same cubin
    (and a ktune.Kernel call on PyTorch tensors), BATCHES batches of CALLS launches of a tiny kernel,
    the median per call in microseconds; goal: at most 10 us more than CuPy.

    PYTHONPATH=build-gpu/python:/tmp/site python3 tools/bench/python_goals.py [--json out.json]
        [--repeats 3] [--examples vector_add.py convolution.py] [--skip-end-to-end] [--skip-launch]

Kernel Tuner comes from PYTHONPATH (pip install --target /tmp/site kernel_tuner-*.whl); ktune from
build-gpu/python (cmake -DKTUNE_PYTHON=ON) or an installed package. Prints one table and writes JSON.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"


def with_ktune_import(text):
    """The example with only its import changed."""
    text = text.replace("from kernel_tuner import tune_kernel", "from ktune import tune_kernel")
    return text.replace("import kernel_tuner\n", "import ktune as kernel_tuner\n")


def run_once(script_text, tuner, work):
    """Seconds from process start to exit, in a fresh folder with cold caches."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"goals-{tuner}-", dir=work))
    script = folder / "script.py"
    script.write_text(script_text)
    env = dict(os.environ)
    env["CUPY_CACHE_DIR"] = str(folder / "cupy-cache")  # Kernel Tuner (cupy) compiles cold
    env["KTUNE_DB"] = str(folder / "ktune.db")         # tune_kernel without cache= works in a temp store anyway
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"python_goals: {tuner} failed on the example:\n{done.stdout}\n{done.stderr}")
    best = [line for line in done.stdout.splitlines() if line.startswith("best:")]
    return seconds, best[-1] if best else ""


def end_to_end(examples, repeats, work):
    rows = []
    for name in examples:
        original = (EXAMPLES / name).read_text()
        variants = {"kernel_tuner": original, "ktune": with_ktune_import(original)}
        times = {"kernel_tuner": [], "ktune": []}
        answers = {}
        for _ in range(repeats):
            for tuner, text in variants.items():  # alternating, so drift hits both alike
                seconds, best = run_once(text, tuner, work)
                times[tuner].append(seconds)
                answers[tuner] = best
        kt, kn = statistics.median(times["kernel_tuner"]), statistics.median(times["ktune"])
        rows.append({"example": name, "kernel_tuner_s": kt, "ktune_s": kn, "speedup": kt / kn,
                     "kernel_tuner_all_s": times["kernel_tuner"], "ktune_all_s": times["ktune"],
                     "kernel_tuner_answer": answers["kernel_tuner"], "ktune_answer": answers["ktune"],
                     "goal_met": kt / kn >= 3.0})
    return rows


def per_call_us(launch, synchronize, batches, calls):
    for _ in range(calls):  # warm: loads, caches, first-call paths
        launch()
    synchronize()
    samples = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(calls):
            launch()
        elapsed = time.perf_counter() - started
        synchronize()
        samples.append(elapsed / calls * 1e6)
    return statistics.median(samples)


def launcher_overhead(batches, calls, work):
    import cupy
    import numpy as np

    import ktune

    rows, cols = 8, 32  # a tiny softmax: the GPU finishes each launch before the next is issued
    spec = ktune.Spec.from_file(ROOT / "examples" / "softmax_rows.json")
    sizes = {"M": rows, "N": cols}
    folder = pathlib.Path(tempfile.mkdtemp(prefix="goals-launch-", dir=work))
    result = {}
    with ktune.Engine(db=folder / "store.db", cubin_cache=folder / "cubins") as engine:
        kernel = engine.kernel(spec, sizes, on_miss="default")
        (folder / "kernel.cubin").write_bytes(kernel.cubin)
        raw = cupy.RawModule(path=str(folder / "kernel.cubin")).get_function(kernel.entry)
        x = cupy.random.randn(rows, cols, dtype=cupy.float32)
        y = cupy.empty_like(x)
        scalars = (np.int32(rows), np.int32(cols))
        sync = cupy.cuda.get_current_stream().synchronize
        grid, block, shared = kernel.grid, kernel.block, kernel.shared_bytes

        result["cupy_rawkernel_us"] = per_call_us(lambda: raw(grid, block, (x, y) + scalars, shared_mem=shared),
                                                  sync, batches, calls)
        result["ktune_cupy_us"] = per_call_us(lambda: kernel(x, y), sync, batches, calls)
        expected = cupy.exp(x - x.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        result["ktune_cupy_correct"] = bool(cupy.allclose(y, expected, rtol=1e-4, atol=1e-6))
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            xt = torch.randn(rows, cols, device="cuda")
            yt = torch.empty_like(xt)
            result["ktune_torch_us"] = per_call_us(lambda: kernel(xt, yt), torch.cuda.synchronize, batches, calls)
            result["torch_softmax_us"] = per_call_us(lambda: torch.softmax(xt, dim=1), torch.cuda.synchronize,
                                                     batches, calls)
        result["extra_us"] = result["ktune_cupy_us"] - result["cupy_rawkernel_us"]
        result["goal_met"] = result["extra_us"] <= 10.0
        result["config"] = kernel.config
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default="python_goals.json", help="where to write the figures")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--examples", nargs="+", default=["vector_add.py", "convolution.py"])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--skip-launch", action="store_true")
    args = parser.parse_args()

    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="python-goals-") as work:
        import ktune
        with ktune.Engine(db=os.path.join(work, "probe.db")) as probe:
            report["device"] = probe.device().name
        if not args.skip_end_to_end:
            report["end_to_end"] = end_to_end(args.examples, args.repeats, work)
        if not args.skip_launch:
            report["launch"] = launcher_overhead(args.batches, args.calls, work)

    print(f"python goals on {report['device']} ({report['date']}, Python {report['python']})")
    print(f"{'measure':<44} {'Kernel Tuner / CuPy':>20} {'ktune':>12} {'ratio / extra':>14} {'goal':>6}")
    for row in report.get("end_to_end", []):
        print(f"{'end to end: ' + row['example'] + ' (s, median)':<44} {row['kernel_tuner_s']:>20.2f} "
              f"{row['ktune_s']:>12.2f} {row['speedup']:>13.1f}x {'met' if row['goal_met'] else 'MISSED':>6}")
    launch = report.get("launch")
    if launch:
        print(f"{'launch per call, CuPy arrays (us, median)':<44} {launch['cupy_rawkernel_us']:>20.2f} "
              f"{launch['ktune_cupy_us']:>12.2f} {launch['extra_us']:>+12.2f}us {'met' if launch['goal_met'] else 'MISSED':>6}")
        if "ktune_torch_us" in launch:
            print(f"{'launch per call, torch tensors (us, median)':<44} {'':>20} {launch['ktune_torch_us']:>12.2f}"
                  f"   (torch.softmax: {launch['torch_softmax_us']:.2f} us)")
    pathlib.Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
