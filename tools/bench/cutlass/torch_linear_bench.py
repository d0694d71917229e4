#!/usr/bin/env python3
"""The vendor figure next to cutlass_gemm_bench: torch.nn.functional.linear(A[M,K], W[N,K]) (cuBLAS),
CUDA events, median of 50 launches after 5 warm-ups, same data distribution (multiples of 1/64 in [-1, 1]).

Usage: torch_linear_bench.py --dtype bf16|fp16 --shapes 4096x4096x4096,128x4096x4096,...
"""
import argparse
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--shapes", required=True)
    a = ap.parse_args()
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, dtype {a.dtype}")
    for text in a.shapes.split(","):
        m, n, k = (int(x) for x in text.split("x"))
        A = (torch.randint(-64, 65, (m, k), device="cuda").float() / 64).to(dtype)
        W = (torch.randint(-64, 65, (n, k), device="cuda").float() / 64).to(dtype)
        for _ in range(5):
            torch.nn.functional.linear(A, W)
        times = []
        for _ in range(50):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            torch.nn.functional.linear(A, W)
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        ms = sorted(times)[len(times) // 2]
        print(f"RESULT {a.dtype} torch.linear {m}x{n}x{k} median {ms:.4f} ms {2 * m * n * k / ms / 1e9:.1f} TFLOP/s")


if __name__ == "__main__":
    main()
