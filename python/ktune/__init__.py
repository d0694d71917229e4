"""ktune: autotuning for CUDA kernels, from Python.

    import ktune
    spec = ktune.Spec.from_file("examples/sgemm.json")
    with ktune.Engine() as engine:
        best = engine.tune(spec, {"M": 4096, "N": 4096, "K": 4096}, progress=print)
        print(best.config, best.time_ns)

Every error the library reports is a ktune.KtuneError subclass carrying the library's one-line
message and `.code` ("invalid_spec", "no_gpu", ...); see python/README.md.
"""

from ktune._ktune import (  # noqa: F401  (re-exported)
    Answer,
    CompiledKernel,
    ConflictError,
    CorruptError,
    Device,
    FileError,
    InternalError,
    InvalidArgumentError,
    KtuneError,
    Measurement,
    NoGpuError,
    NotFoundError,
    Progress,
    Recording,
    Spec,
    SpecError,
    TunedConfig,
    TuneResult,
    UnsupportedError,
    __version__,
    export_table,
    import_table,
    sweep,
)
from ktune._engine import Engine  # noqa: F401
from ktune._launcher import ArgumentError, Kernel  # noqa: F401
from ktune._kernel_tuner import UnsupportedArgument, translate_tune_kernel, tune_kernel  # noqa: F401

__all__ = [
    "Answer",
    "ArgumentError",
    "CompiledKernel",
    "ConflictError",
    "CorruptError",
    "Device",
    "Engine",
    "FileError",
    "InternalError",
    "InvalidArgumentError",
    "Kernel",
    "KtuneError",
    "Measurement",
    "NoGpuError",
    "NotFoundError",
    "Progress",
    "Recording",
    "SpecError",
    "Spec",
    "TunedConfig",
    "TuneResult",
    "UnsupportedArgument",
    "UnsupportedError",
    "export_table",
    "import_table",
    "sweep",
    "translate_tune_kernel",
    "tune_kernel",
]
