#!/usr/bin/env python3
"""Kernel Tuner's README example (examples/cuda/vector_add.py), unchanged but for `lang="cupy"`
(Kernel Tuner's default CUDA backend needs PyCUDA). To run it with ktune, change the import only:

    from kernel_tuner import tune_kernel   ->   from ktune import tune_kernel

(tools/bench/python_goals.py runs both and times them.)"""
import numpy
from kernel_tuner import tune_kernel


def tune():
    kernel_string = """
    __global__ void vector_add(float *c, float *a, float *b, int n) {
        int i = blockIdx.x * block_size_x + threadIdx.x;
        if (i<n) {
            c[i] = a[i] + b[i];
        }
    }
    """

    size = 10000000

    a = numpy.random.randn(size).astype(numpy.float32)
    b = numpy.random.randn(size).astype(numpy.float32)
    c = numpy.zeros_like(b)
    n = numpy.int32(size)

    args = [c, a, b, n]

    tune_params = dict()
    tune_params["block_size_x"] = [128 + 64 * i for i in range(15)]

    result, env = tune_kernel("vector_add", kernel_string, size, args, tune_params, lang="cupy",
                              answer=[a + b, None, None, None])
    best = min(result, key=lambda r: r["time"])
    print("best:", best["block_size_x"], f"{best['time']:.4f} ms", "on", env["device_name"])
    return result


if __name__ == "__main__":
    tune()
