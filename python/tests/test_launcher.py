"""ktune.Kernel without a GPU: the lookup and on_miss policy (on recorded H100 SGEMM timings), the
compiled configuration and its launch geometry, the scalar arguments fixed at the sizes, and the
checks of the arrays a call passes (read through __cuda_array_interface__ and DLPack). Loading and
launching need a GPU: test_gpu.py."""

import struct

import numpy as np
import pytest

import ktune
from conftest import SIZES

M, N, K = SIZES["M"], SIZES["N"], SIZES["K"]


class CudaArray:
    """An array as __cuda_array_interface__ describes one (the protocol Numba, CuPy and PyTorch
    speak): the launcher reads only the description, never the memory."""

    def __init__(self, count, typestr="<f4", address=0x7F0000000000, strides=None, shape=None):
        self.__cuda_array_interface__ = {"shape": shape or (count,), "typestr": typestr, "data": (address, False),
                                         "strides": strides, "version": 3}


def sgemm_buffers():
    return CudaArray(M * K, address=0x1000), CudaArray(K * N, address=0x2000), CudaArray(M * N, address=0x3000)


def test_on_miss_default_launches_the_spec_default(replay_engine, sgemm):
    kernel = replay_engine.kernel(sgemm, SIZES, on_miss="default")
    assert kernel.rule == "default" and kernel.config == sgemm.default_config and kernel.tuned is None
    compiled = replay_engine.compile(sgemm, sgemm.default_config, arch="sm_90", sizes=SIZES)
    assert (kernel.grid, kernel.block, kernel.shared_bytes) == compiled.launch
    assert [a[:3] for a in kernel.arguments] == [("A", "float", True), ("B", "float", True), ("C", "float", True),
                                                 ("M", "int32", False), ("N", "int32", False), ("K", "int32", False)]
    assert kernel._scalars[3:] == [struct.pack("<i", v) for v in (M, N, K)]
    assert "sgemm" in repr(kernel)


def test_on_miss_error_raises_and_tune_tunes(replay_engine, sgemm):
    with pytest.raises(ktune.NotFoundError, match=r"nothing tuned for M=2048 N=2048 K=2048 .*on_miss=\"error\""):
        replay_engine.kernel(sgemm, SIZES, on_miss="error")
    tuned = replay_engine.kernel(sgemm, SIZES, on_miss="tune", strategy="random", budget=8)
    assert tuned.tuned is not None and tuned.config == tuned.tuned.config
    assert tuned.rule == "exact"
    again = replay_engine.kernel(sgemm, SIZES, on_miss="error")  # now the table answers
    assert again.config == tuned.config and again.tuned is None
    with pytest.raises(ValueError, match="on_miss must be one of tune, default, error"):
        replay_engine.kernel(sgemm, SIZES, on_miss="maybe")


def test_arrays_are_read_through_the_cuda_array_interface(replay_engine, sgemm):
    kernel = replay_engine.kernel(sgemm, SIZES)
    addresses, framework = kernel.pointers(sgemm_buffers())
    assert addresses == [0x1000, 0x2000, 0x3000] and framework is None


@pytest.mark.parametrize("change, message", [
    (lambda b: b[:2], r"sgemm_tiled takes 3 buffers \(A, B, C\), 2 given"),
    (lambda b: (b[0], CudaArray(K * N, "<f8"), b[2]), "B: element type float64, the kernel takes float32"),
    (lambda b: (b[0], b[1], CudaArray(M * N - 1)), "C: 4194303 elements, the kernel reads 4194304 at M=2048"),
    (lambda b: (CudaArray(M * K, shape=(M, K), strides=(4, 4 * M)), b[1], b[2]), "A: not C-contiguous"),
    (lambda b: (np.zeros(M * K, np.float32), b[1], b[2]), r"A: is not on a CUDA device \(DLPack device type 1\)"),
    (lambda b: ([0.0] * (M * K), b[1], b[2]), "A: a list is no CUDA array"),
])
def test_wrong_arrays_are_named(replay_engine, sgemm, change, message):
    kernel = replay_engine.kernel(sgemm, SIZES)
    with pytest.raises(ktune.ArgumentError, match=message):
        kernel(*change(sgemm_buffers()))


def test_loading_without_a_gpu_raises_no_gpu(replay_engine, sgemm):
    kernel = replay_engine.kernel(sgemm, SIZES)
    try:
        kernel._load()  # what the first call does after checking the arrays
    except ktune.NoGpuError as error:
        assert "driver" in str(error).lower() or "gpu" in str(error).lower()
    else:
        pytest.skip("a GPU is present: test_gpu.py launches for real")
