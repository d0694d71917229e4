"""Triton's @triton.autotune on an equivalent Triton GEMM: FP32 in, FP32 accumulate, IEEE precision
(no TF32, as the CUDA-core SGEMM), a config space of 162 tile/warp/stage combinations — about the
size of ktune's 228. Only the GEMM problem has a Triton kernel here."""
import itertools
import time

import torch
import triton
import triton.language as tl
from triton.runtime.autotuner import Autotuner

from measure import GpuBusySampler, check_close, make_arguments, median_ms
from ktune_spec import KernelSpec


def configs(quick):
    space = itertools.product([32, 64, 128], [32, 64, 128], [16, 32, 64], [4, 8], [2, 3, 4])
    out = [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8}, num_warps=w, num_stages=s)
           for bm, bn, bk, w, s in space]
    return out[::40] if quick else out


def make_matmul(quick):
    @triton.autotune(configs=configs(quick), key=["M", "N", "K"])
    @triton.jit
    def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
        pid = tl.program_id(axis=0)
        num_pid_m = tl.cdiv(M, BLOCK_M)
        num_pid_n = tl.cdiv(N, BLOCK_N)
        group = GROUP_M * num_pid_n
        first_m = (pid // group) * GROUP_M
        size_m = min(num_pid_m - first_m, GROUP_M)
        pid_m = first_m + ((pid % group) % size_m)
        pid_n = (pid % group) // size_m
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        a = a_ptr + rm[:, None] * stride_am + rk[None, :] * stride_ak
        b = b_ptr + rk[:, None] * stride_bk + rn[None, :] * stride_bn
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k in range(0, tl.cdiv(K, BLOCK_K)):
            a_tile = tl.load(a, mask=(rm[:, None] < M) & (rk[None, :] < K - k * BLOCK_K), other=0.0)
            b_tile = tl.load(b, mask=(rk[:, None] < K - k * BLOCK_K) & (rn[None, :] < N), other=0.0)
            acc = tl.dot(a_tile, b_tile, acc, input_precision="ieee")
            a += BLOCK_K * stride_ak
            b += BLOCK_K * stride_bk
        c = c_ptr + rm[:, None] * stride_cm + rn[None, :] * stride_cn
        tl.store(c, acc, mask=(rm[:, None] < M) & (rn[None, :] < N))

    def matmul(a, b, c):
        M, K = a.shape
        _, N = b.shape
        grid = lambda meta: (triton.cdiv(M, meta["BLOCK_M"]) * triton.cdiv(N, meta["BLOCK_N"]),)
        matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
        return c

    return matmul, matmul_kernel


def run(problem, sizes, workdir, options):
    if problem.name != "sgemm":
        return []
    spec = KernelSpec(problem.spec_path)
    args = make_arguments(spec, sizes)
    a, b = problem.torch_inputs(args, sizes)
    c = torch.empty((sizes["M"], sizes["N"]), device="cuda", dtype=torch.float32)
    matmul, kernel = make_matmul(options["quick"])

    trace, best = [], [None]
    original = Autotuner._bench
    start = time.perf_counter()

    def traced(self, *a_, config, **meta):
        timings = original(self, *a_, config=config, **meta)
        t = timings[0] if isinstance(timings, (list, tuple)) else timings
        if t == t and t != float("inf") and (best[0] is None or t < best[0]):
            best[0] = t
        if best[0] is not None:
            trace.append([time.perf_counter() - start, best[0] * 1e6])
        return timings

    Autotuner._bench = traced
    try:
        with GpuBusySampler() as busy:
            start = time.perf_counter()
            matmul(a, b, c)
            torch.cuda.synchronize()
            wall = time.perf_counter() - start
    finally:
        Autotuner._bench = original
    evaluated = len(configs(options["quick"]))
    expected = problem.torch_fn(a, b)
    correct, err = check_close(c, expected, problem.rtol, problem.atol)
    best_config = dict(kernel.best_config.all_kwargs()) if kernel.best_config else {}
    return [{
        "tool": "Triton", "variant": f"{triton.__version__} @triton.autotune, {evaluated} configs", "tuning_wall_s": wall,
        "evaluated": evaluated, "configs_per_s": evaluated / wall, "best_config": best_config,
        "own_best_ns": best[0] * 1e6 if best[0] else None, "own_timer": "triton do_bench, L2 flushed, median",
        "gpu_busy_nvml": busy.fraction, "trace": trace,
        "common_ms": median_ms(lambda: matmul(a, b, c)), "correct": correct, "max_abs_err": err,
    }]
