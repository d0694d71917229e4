"""PyTorch Inductor, torch.compile(mode="max-autotune-no-cudagraphs") with coordinate-descent tuning,
on the same problem written in PyTorch. Cold: fresh Inductor and Triton caches (set by compare.py).
CUDA graphs are off so the winner is timed as a kernel launch like every other tool's."""
import time

import torch
import torch._inductor.config as inductor_config

from ktune_spec import KernelSpec
from measure import GpuBusySampler, check_close, make_arguments, median_ms
from problems import fp32_exact


def run(problem, sizes, workdir, options):
    fp32_exact()
    inductor_config.max_autotune = True
    inductor_config.coordinate_descent_tuning = True
    spec = KernelSpec(problem.spec_path)
    args = make_arguments(spec, sizes)
    inputs = problem.torch_inputs(args, sizes)
    compiled = torch.compile(problem.torch_fn, mode="max-autotune-no-cudagraphs", dynamic=False)
    with GpuBusySampler() as busy:
        start = time.perf_counter()
        out = compiled(*inputs)
        torch.cuda.synchronize()
        wall = time.perf_counter() - start
    expected = problem.torch_fn(*inputs)
    correct, err = check_close(out, expected, problem.rtol, problem.atol)
    common = median_ms(lambda: compiled(*inputs))
    return [{
        "tool": "Inductor", "variant": f"torch {torch.__version__} max-autotune + coordinate descent", "tuning_wall_s": wall,
        "evaluated": None, "configs_per_s": None, "best_config": None, "own_best_ns": None, "own_timer": None,
        "gpu_busy_nvml": busy.fraction, "trace": [[wall, common * 1e6]], "common_ms": common, "correct": correct,
        "max_abs_err": err,
    }]
