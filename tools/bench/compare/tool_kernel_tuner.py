"""Kernel Tuner (kernel_tuner from PyPI, CuPy backend) on the same CUDA source and the same valid
configurations as ktune: its tune_params are the spec's parameters, its restriction is ktune's
valid set (ktune_spec.py evaluates the spec's constraints as ktune does), its grid and block come
from the spec's launch expressions. Strategy brute_force, its defaults otherwise (7 iterations)."""
import time
from datetime import datetime, timezone

import numpy as np
import torch

from ktune_spec import KernelSpec
from measure import CudaSourceKernel, GpuBusySampler, check_close, make_arguments, median_ms


def run(problem, sizes, workdir, options):
    import kernel_tuner

    spec = KernelSpec(problem.spec_path)
    names = list(spec.params)
    valid = list(spec.valid_configs(sizes))
    if options["quick"]:
        valid = valid[:12]
    valid_keys = {tuple(c[n] for n in names) for c in valid}

    tune_params = {n: list(v) for n, v in spec.params.items()}
    block_names, derived = [], {}
    for axis in range(3):
        text = spec.block[axis].text.strip() if axis < len(spec.block) else "1"
        if text in spec.params:
            block_names.append(text)
        else:  # an expression or a constant: a derived parameter, tied to the spec's value by the restriction
            name = f"ktune_block_{'xyz'[axis]}"
            tune_params[name] = sorted({spec.launch_geometry(c, sizes)[1][axis] for c in valid})
            block_names.append(name)
            derived[name] = axis

    def config_of(p):
        return {n: int(p[n]) for n in names}

    def restriction(p):
        config = config_of(p)
        if tuple(config[n] for n in names) not in valid_keys:
            return False
        block = spec.launch_geometry(config, sizes)[1]
        return all(int(p[name]) == block[axis] for name, axis in derived.items())

    def grid(p):
        return spec.launch_geometry(config_of(p), sizes)[0]

    args = make_arguments(spec, sizes)
    host_args = [a.cpu().numpy() if isinstance(a, torch.Tensor) else a for a in args]
    start_utc = datetime.now(timezone.utc)
    start = time.perf_counter()
    with GpuBusySampler() as busy:
        results, env = kernel_tuner.tune_kernel(
            spec.entry, spec.source, grid, host_args, tune_params, restrictions=restriction,
            grid_div_x=[lambda p: 1], grid_div_y=[lambda p: 1], grid_div_z=[lambda p: 1],
            block_size_names=block_names, lang="cupy", compiler_options=["--std=c++17"],
            strategy="brute_force", verbose=False, quiet=True, cache=None)
    wall = time.perf_counter() - start

    def time_of(r):
        t = r.get("time")
        return float(t) if isinstance(t, (int, float, np.floating)) and np.isfinite(t) else None

    ok_results = [r for r in results if time_of(r) is not None]
    best = min(ok_results, key=time_of)
    trace, best_so_far = [], None
    for r in results:
        t = time_of(r)
        if t is not None and (best_so_far is None or t < best_so_far):
            best_so_far = t
        if best_so_far is not None and "timestamp" in r:
            stamp = datetime.fromisoformat(str(r["timestamp"]))
            trace.append([(stamp - start_utc).total_seconds(), best_so_far * 1e6])
    benchmark_s = sum(float(r.get("benchmark_time", 0) or 0) for r in results) / 1000

    best_config = config_of(best)
    kernel = CudaSourceKernel(spec, best_config, sizes)
    launch = kernel.launcher(args)
    expected = problem.torch_fn(*problem.torch_inputs(args, sizes))
    args[problem.output_arg].zero_()
    launch()
    torch.cuda.synchronize()
    correct, err = check_close(args[problem.output_arg].view_as(expected), expected, problem.rtol, problem.atol)
    return [{
        "tool": "Kernel Tuner", "variant": f"{kernel_tuner.__version__ if hasattr(kernel_tuner, '__version__') else ''} brute_force, cupy".strip(),
        "tuning_wall_s": wall, "evaluated": len(results), "configs_per_s": len(results) / wall,
        "failed": len(results) - len(ok_results), "best_config": best_config, "own_best_ns": time_of(best) * 1e6,
        "own_timer": "CUDA events, mean of 7, L2 not flushed", "gpu_busy_nvml": busy.fraction,
        "gpu_busy_reported": benchmark_s / wall, "trace": trace,
        "common_ms": median_ms(launch), "correct": correct, "max_abs_err": err,
    }]
