"""ktune.Kernel: a tuned kernel callable on PyTorch or CuPy tensors (any DLPack or
__cuda_array_interface__ array) in the caller's process, on the caller's current stream.

    kernel = engine.kernel(spec, {"M": 4096, "N": 1024}, on_miss="tune")
    kernel(x, y)        # the spec's buffer arguments, in order; scalars come from the sizes

Creating it looks the sizes up (tuning first, or taking the spec's default, or raising on a miss,
as on_miss says) and compiles the chosen configuration; the first call loads the cubin through the
CUDA driver API into the device's primary context (PyTorch's and CuPy's); every call then checks
the arguments, takes their device addresses and launches with the tuned grid and block.
"""

import numpy as np

from ktune import _ktune

_ON_MISS = ("tune", "default", "error")
# ktune's element types as NumPy dtype names (what torch, CuPy and __cuda_array_interface__ name).
_DTYPE_OF_TYPE = {
    "float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
    "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
    "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64",
}
_DLPACK_CUDA_DEVICES = (2, 13)  # kDLCUDA, kDLCUDAManaged
_DLPACK_CODES = {0: "int", 1: "uint", 2: "float", 4: "bfloat"}


class ArgumentError(TypeError):
    """A launcher argument that is not what the spec's buffer needs (the message names it)."""


def _torch_stream():
    import torch

    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None:
        return lambda: raw(torch.cuda.current_device())
    return lambda: torch.cuda.current_stream().cuda_stream


def _cupy_stream():
    import cupy

    return lambda: cupy.cuda.get_current_stream().ptr


_TORCH_DTYPE_NAMES = {}


def _torch_dtype_name(dtype):
    name = _TORCH_DTYPE_NAMES.get(dtype)
    if name is None:
        name = _TORCH_DTYPE_NAMES[dtype] = str(dtype).replace("torch.", "")
    return name


def _torch_view(x):
    if not x.is_cuda:
        raise ValueError("is not on a CUDA device")
    return x.data_ptr(), x.numel(), _torch_dtype_name(x.dtype), x.is_contiguous()


# NumPy computes dtype.name anew on every read (about 8 us a launch on the H200 host, measured
# 2026-11-29): names are kept per dtype object, as for torch above.
_DTYPE_NAMES = {}


def _dtype_name(dtype):
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = dtype.name
    return name


def _cupy_view(x):
    return x.data.ptr, x.size, _dtype_name(x.dtype), x.flags.c_contiguous


def _interface_view(x):
    cai = x.__cuda_array_interface__
    count = 1
    for n in cai["shape"]:
        count *= n
    strides = cai.get("strides")
    dtype = np.dtype(cai["typestr"])
    contiguous = strides is None or _c_contiguous(cai["shape"], strides, dtype.itemsize)
    return cai["data"][0], count, dtype.name, contiguous


def _c_contiguous(shape, strides, itemsize):
    expected = itemsize
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def _dlpack_view(x):
    address, device_type, count, code, bits = _ktune.dlpack_pointer(x)
    if device_type not in _DLPACK_CUDA_DEVICES:
        raise ValueError(f"is not on a CUDA device (DLPack device type {device_type})")
    name = f"{_DLPACK_CODES.get(code, 'unknown')}{bits}"
    return address, count, name, True  # nanobind accepts C-contiguous and strided; contiguity asked below


def _view_for(array):
    """How to read (address, count, dtype, contiguous) from arrays of this one's type."""
    kind = type(array)
    module = kind.__module__.split(".")[0]
    if module == "torch":
        return _torch_view, "torch"
    if module == "cupy":
        return _cupy_view, "cupy"
    if hasattr(array, "__cuda_array_interface__"):
        return _interface_view, None
    if hasattr(array, "__dlpack__"):
        return _dlpack_view, None
    return None, None


class Kernel:
    """A tuned kernel, callable on device arrays. Make one with engine.kernel(spec, sizes) or
    ktune.Kernel(engine, spec, sizes, on_miss="default").

    on_miss: what to do when the lookup table has no answer for these sizes on this device:
    "tune" (tune now, then launch the winner), "default" (launch the spec's default
    configuration), "error" (raise ktune.NotFoundError). Any lookup rule (exact, bucket,
    nearest_size, same_arch) counts as an answer.

    kernel(*buffers, stream=None): the spec's buffer arguments in order (scalar arguments are the
    spec's values at the sizes). Each must be a C-contiguous CUDA array of the buffer's element
    type with at least the buffer's element count. stream: a raw CUstream (int); by default the
    current stream of the first argument's framework (PyTorch's or CuPy's), else the legacy
    default stream.
    """

    def __init__(self, engine, spec, sizes, on_miss="default", device=0, **tune_options):
        if on_miss not in _ON_MISS:
            raise ValueError(f"on_miss must be one of {', '.join(_ON_MISS)}, not {on_miss!r}")
        self.spec = spec
        self.sizes = dict(sizes)
        answer = engine.lookup(spec, self.sizes)
        self.tuned = None
        if answer.rule == "default":
            if on_miss == "error":
                error = _ktune.NotFoundError(
                    f"{spec.name}: nothing tuned for {_format(self.sizes)} on this device (on_miss=\"error\"); "
                    "tune it first or pass on_miss=\"tune\" or \"default\"")
                error.code = "not_found"
                raise error
            if on_miss == "tune":
                self.tuned = engine.tune(spec, self.sizes, **tune_options)
        compiled = engine.binary(spec, self.sizes)
        self.rule = compiled.rule
        self.config = compiled.config
        self.grid, self.block, self.shared_bytes = compiled.launch
        self.device = device
        self.cubin = compiled.cubin
        self.entry = compiled.entry
        arguments = _ktune.launch_arguments(spec, self.config, self.sizes)
        self.arguments = [(name, kind, is_buffer, count) for name, kind, is_buffer, count, _ in arguments]
        self._scalars = [scalar for _, _, _, _, scalar in arguments]
        self._buffers = [(name, _DTYPE_OF_TYPE[kind], count) for name, kind, is_buffer, count, _ in arguments if is_buffer]
        self._loaded = None
        self._views = {}

    def __repr__(self):
        return (f"<ktune.Kernel {self.spec.name} {_format(self.config)} ({self.rule}) at {_format(self.sizes)}: "
                f"grid {self.grid}, block {self.block}>")

    def _load(self):
        self._loaded = _ktune.LoadedKernel(self.cubin, self.entry, self.device, self.grid, self.block,
                                           self.shared_bytes, self._scalars)
        return self._loaded

    def set_constant(self, symbol, array):
        """Fills a __constant__ symbol of the kernel (a spec's `constants`) from a host array."""
        data = np.ascontiguousarray(array).tobytes()
        (self._loaded or self._load()).set_constant(symbol, data)

    def pointers(self, arrays):
        """The device addresses of the arrays, checked against the spec's buffers; and the
        framework of the first ("torch", "cupy" or None)."""
        if len(arrays) != len(self._buffers):
            names = ", ".join(name for name, _, _ in self._buffers)
            raise ArgumentError(f"{self.spec.name} takes {len(self._buffers)} buffers ({names}), "
                                f"{len(arrays)} given")
        addresses, framework = [], None
        for i, (array, (name, dtype, count)) in enumerate(zip(arrays, self._buffers)):
            kind = type(array)
            found = self._views.get(kind)
            if found is None:
                found = self._views[kind] = _view_for(array)
            view, owner = found
            if view is None:
                raise ArgumentError(f"{name}: a {kind.__name__} is no CUDA array (PyTorch, CuPy, DLPack or "
                                    "__cuda_array_interface__)")
            try:
                address, size, got, contiguous = view(array)
            except ValueError as error:
                raise ArgumentError(f"{name}: {error}") from None
            if got != dtype:
                raise ArgumentError(f"{name}: element type {got}, the kernel takes {dtype}")
            if size < count:
                raise ArgumentError(f"{name}: {size} elements, the kernel reads {count} at {_format(self.sizes)}")
            if not contiguous:
                raise ArgumentError(f"{name}: not C-contiguous (.contiguous() / cupy.ascontiguousarray)")
            if i == 0:
                framework = owner
            addresses.append(address)
        return addresses, framework

    def __call__(self, *arrays, stream=None):
        addresses, framework = self.pointers(arrays)
        loaded = self._loaded or self._load()
        if stream is None:
            stream = self._current_stream(framework)
        loaded.launch(stream, addresses)

    def _current_stream(self, framework):
        streams = Kernel._stream_of
        if framework not in streams:
            streams[framework] = _torch_stream() if framework == "torch" else (
                _cupy_stream() if framework == "cupy" else (lambda: 0))
        return streams[framework]()

    _stream_of = {}


def _format(values):
    return " ".join(f"{k}={v}" for k, v in values.items())
