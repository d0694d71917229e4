"""The problems every tool tunes: a ktune example spec at one size, what it computes in PyTorch
(for Inductor, the vendor library and the check of every winner), and its throughput metric."""
import torch

ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]


class Problem:
    def __init__(self, name, spec, sizes, quick_sizes, torch_fn, output_arg, rtol, atol):
        self.name, self.spec_path, self.sizes, self.quick_sizes = name, ROOT / "examples" / spec, sizes, quick_sizes
        self.torch_fn, self.output_arg, self.rtol, self.atol = torch_fn, output_arg, rtol, atol

    def torch_inputs(self, args, sizes):
        """The spec's input buffers, reshaped as PyTorch sees the problem."""
        raise NotImplementedError


class Gemm(Problem):
    def torch_inputs(self, args, sizes):
        M, N, K = sizes["M"], sizes["N"], sizes["K"]
        return args[0].view(M, K), args[1].view(K, N)


class Linear(Problem):
    """nn.Linear: A[M,K] times W[N,K] transposed (examples/cutlass/gemm_sm90*.json)."""

    def torch_inputs(self, args, sizes):
        M, N, K = sizes["M"], sizes["N"], sizes["K"]
        return args[0].view(M, K), args[1].view(N, K)


class Rows(Problem):
    def torch_inputs(self, args, sizes):
        return (args[0].view(sizes["M"], sizes["N"]),)


PROBLEMS = {
    "sgemm": Gemm("sgemm", "sgemm.json", {"M": 4096, "N": 4096, "K": 4096}, {"M": 1024, "N": 1024, "K": 1024},
                  lambda a, b: torch.mm(a, b), 2, 1e-3, 1e-3),
    "reduce_rows": Rows("reduce_rows", "reduce_rows.json", {"M": 8192, "N": 8192}, {"M": 2048, "N": 2048},
                        lambda x: x.sum(dim=1), 1, 1e-3, 1e-2),
    "softmax_rows": Rows("softmax_rows", "softmax_rows.json", {"M": 8192, "N": 4096}, {"M": 2048, "N": 1024},
                         lambda x: torch.softmax(x, dim=1), 1, 1e-4, 1e-6),
}

# Issue #19: CUTLASS's sm90 GEMM through NVRTC against cuBLAS (torch.nn.functional.linear), bf16 and
# fp16, at a square size and three LLM shapes (decode-sized M=128; an MLP up-projection; a
# down-projection). Names: cutlass_<dtype>_<M>x<N>x<K>; the quick sizes are the same shapes shrunk.
_LINEAR_SHAPES = [(4096, 4096, 4096), (128, 4096, 4096), (2048, 14336, 4096), (8192, 4096, 14336)]
for _dtype, _spec in (("bf16", "cutlass/gemm_sm90.json"), ("fp16", "cutlass/gemm_sm90_fp16.json")):
    for _m, _n, _k in _LINEAR_SHAPES:
        _name = f"cutlass_{_dtype}_{_m}x{_n}x{_k}"
        PROBLEMS[_name] = Linear(_name, _spec, {"M": _m, "N": _n, "K": _k},
                                 {"M": min(_m, 1024), "N": min(_n, 2048), "K": min(_k, 2048)},
                                 lambda a, w: torch.nn.functional.linear(a, w), 2, 1e-2, 2e-2)


def fp32_exact():
    """FP32 matrix products in IEEE FP32 (no TF32), as the CUDA-core SGEMM computes them."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
