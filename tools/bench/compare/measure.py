"""One way to time every tool's winner, and GPU-busy sampling, shared by the tool runners.

Each tool reports its own timings with its own timer (ktune: CUPTI kernel time, L2 flushed;
Kernel Tuner: CUDA events, mean of 7; Triton: do_bench). To compare winners, every winner is
timed again here the same way: triton.testing.do_bench, L2 flushed before each run, median.
"""
import threading
import time

import numpy as np
import torch

from ktune_spec import Expr

_DTYPES = {"float": torch.float32, "half": torch.float16, "__half": torch.float16, "__nv_bfloat16": torch.bfloat16,
           "bfloat16": torch.bfloat16, "double": torch.float64, "int": torch.int32, "uint8": torch.uint8}


def median_ms(fn):
    from triton.testing import do_bench
    return do_bench(fn, warmup=25, rep=200, return_mode="median")


class GpuBusySampler:
    """Mean NVML utilisation (percent of time a kernel was running) while the block runs."""

    def __init__(self, period_s=0.05):
        self.period_s = period_s
        self.samples = []
        self._stop = threading.Event()

    def __enter__(self):
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device() if torch.cuda.is_initialized() else 0)

        def loop():
            while not self._stop.is_set():
                self.samples.append(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                time.sleep(self.period_s)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    @property
    def fraction(self):
        return float(np.mean(self.samples)) / 100 if self.samples else None


def _element_type(type_text):
    base = type_text.replace("const", "").replace("*", "").replace("__restrict__", "").strip()
    return _DTYPES[base]


def make_arguments(spec, sizes, seed=1):
    """The spec's arguments as torch tensors (buffers) and numpy scalars, initialised like ktune does."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    args = []
    for arg in spec.args:
        if arg.get("type") == "tensor_map":
            args.append(None)  # encoded by ktune's runner from its buffer; nothing to make here
        elif "count" in arg:
            count = Expr(arg["count"]).eval(sizes) if isinstance(arg["count"], str) else int(arg["count"])
            dtype = _element_type(arg["type"])
            init = arg.get("init", "zero")
            if init == "random" or isinstance(init, dict):
                lo, hi = (init["random"].get("min", 0.0), init["random"].get("max", 1.0)) if isinstance(init, dict) else (0.0, 1.0)
                t = torch.rand(count, generator=gen, device="cuda", dtype=torch.float32) * (hi - lo) + lo
                t = t.to(dtype)
            else:
                t = torch.zeros(count, device="cuda", dtype=dtype)
            args.append(t)
        else:
            value = arg["value"]
            if arg["type"] in ("int", "unsigned", "long long", "int64_t"):
                value = Expr(value).eval(sizes) if isinstance(value, str) else int(value)
                args.append(np.int32(value) if arg["type"] in ("int", "unsigned") else np.int64(value))
            else:
                args.append(np.float32(value))
    return args


class CudaSourceKernel:
    """ktune's CUDA source at one configuration, compiled by NVRTC through CuPy and launched with the
    spec's launch geometry: how the ktune and Kernel Tuner winners are timed the same way."""

    def __init__(self, spec, config, sizes):
        import cupy as cp
        self.cp = cp
        module = cp.RawModule(code=spec.defines(config) + spec.source, options=("--std=c++17",))
        self.function = module.get_function(spec.entry)
        self.grid, self.block, self.shared = spec.launch_geometry(config, sizes)
        if self.shared > 48 * 1024:
            self.function.max_dynamic_shared_size_bytes = self.shared

    def launcher(self, args):
        cp = self.cp
        converted = [cp.asarray(a) if isinstance(a, torch.Tensor) else a for a in args]
        return lambda: self.function(self.grid, self.block, tuple(converted), shared_mem=self.shared)


def check_close(got, expected, rtol, atol):
    got, expected = got.float(), expected.float()
    ok = torch.allclose(got, expected, rtol=rtol, atol=atol)
    return bool(ok), float((got - expected).abs().max())
