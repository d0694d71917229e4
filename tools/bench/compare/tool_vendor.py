"""The vendor library where one exists: cuBLAS through torch.mm (IEEE FP32, TF32 off) for GEMM;
PyTorch's own eager kernels for the row sum and softmax. No tuning: the ceiling (or the baseline)."""
import torch

from ktune_spec import KernelSpec
from measure import make_arguments, median_ms
from problems import fp32_exact


def run(problem, sizes, workdir, options):
    fp32_exact()
    spec = KernelSpec(problem.spec_path)
    inputs = problem.torch_inputs(make_arguments(spec, sizes), sizes)
    name = ("cuBLAS (torch.mm, TF32 off)" if problem.name == "sgemm"
            else "cuBLAS (torch.nn.functional.linear)" if problem.name.startswith("cutlass_") else "PyTorch eager")
    common = median_ms(lambda: problem.torch_fn(*inputs))
    return [{"tool": name, "variant": f"torch {torch.__version__}", "tuning_wall_s": 0.0, "evaluated": 0, "configs_per_s": None,
             "best_config": None, "own_best_ns": None, "own_timer": None, "gpu_busy_nvml": None, "trace": [],
             "common_ms": common, "correct": True, "max_abs_err": 0.0}]
