"""Kernel Tuner's tune_kernel on ktune: a Kernel Tuner script runs with its import changed
(`import ktune as kernel_tuner`, `from ktune import tune_kernel`).

`translate_tune_kernel` turns tune_kernel's arguments into a ktune spec (a dict, docs/spec.md)
plus the files it names (arrays as .npy files in a folder); `tune_kernel` tunes that spec with a
ktune.Engine and returns `(results, env)` in Kernel Tuner's shape. Everything Kernel Tuner does
implicitly is made explicit in the spec: the `#define`s of the block and grid sizes and of
`kernel_tuner`, the block-size restriction (at most 1024 threads), the grid from problem_size and
grid_div_*, the reference answers and np.allclose's tolerances (rtol 1e-5, atol).
"""

import numbers
import os
import pathlib
import tempfile
import time

import numpy as np

from ktune import _expressions

DEFAULT_BLOCK_SIZE_NAMES = ["block_size_x", "block_size_y", "block_size_z"]
GRID_SIZE_NAMES = ["grid_size_x", "grid_size_y", "grid_size_z"]
SIZE_NAMES = ["problem_size_x", "problem_size_y", "problem_size_z"]
MAX_THREADS_PER_BLOCK = 1024  # Kernel Tuner's implicit restriction (the device's limit on every CUDA GPU)
KERNEL_TUNER_RTOL = 1e-5      # np.allclose's default, which Kernel Tuner's verification uses

_DTYPES = {
    "float32": "float", "float64": "double", "float16": "half",
    "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
    "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64",
    "bool": "uint8",
}

# Kernel Tuner strategies: brute_force is ktune's exhaustive, random_sample its random; the others
# (simulated annealing, genetic algorithms, ...) become ktune's default model-guided bestfirst,
# bounded by the same strategy_options (max_fevals, time_limit).
_STRATEGIES = {None: "exhaustive", "brute_force": "exhaustive", "random_sample": "random"}


class UnsupportedArgument(ValueError):
    """A tune_kernel argument ktune cannot honour; the message names it and says what to do."""


def _unsupported(argument, why):
    return UnsupportedArgument(f"tune_kernel: {argument}: {why}")


def _as_numpy(value):
    """A host copy of a NumPy, CuPy or PyTorch array (None if value is no array)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):  # CuPy
        return value.get()
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "__array_interface__") or hasattr(value, "__array__"):
        if not isinstance(value, (numbers.Number, np.generic)):
            return np.asarray(value)
    return None


def _element_type(array, what):
    name = array.dtype.name
    if name not in _DTYPES:
        raise _unsupported(what, f"dtype {name} has no ktune buffer type (use one of {', '.join(sorted(_DTYPES))})")
    return _DTYPES[name]


def _integer(value, what):
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    raise _unsupported(what, f"{value!r} is not an integer; ktune tunes integer parameters only")


def _write_npy(folder, name, array):
    path = pathlib.Path(folder) / f"{name}.npy"
    array = np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    np.save(path, array)
    return path.name


def _kernel_source(kernel_source):
    """(code, folder of the file or None), as Kernel Tuner reads kernel_source."""
    if callable(kernel_source):
        raise _unsupported("kernel_source", "a code generator (callable) is not supported; pass the code or a file")
    if isinstance(kernel_source, (list, tuple)):
        if not kernel_source:
            raise _unsupported("kernel_source", "an empty list")
        kernel_source = kernel_source[0]  # the others are files the first includes: found through its folder
    if isinstance(kernel_source, pathlib.Path) or (isinstance(kernel_source, str) and _looks_like_a_filename(kernel_source)):
        path = pathlib.Path(kernel_source)
        return path.read_text(), str(path.resolve().parent)
    if isinstance(kernel_source, str):
        return kernel_source, None
    raise TypeError("tune_kernel: kernel_source must be code, a file name or a list of file names")


def _looks_like_a_filename(text):
    """Kernel Tuner's rule (util.looks_like_a_filename)."""
    if len(text) > 250 or any(c in text for c in "();{}\\"):
        return False
    if any(s in text for s in ("__global__ ", "__kernel ", "void ", "float ")):
        return False
    return any(s in text for s in (".c", ".opencl", ".F", ".jl"))


def _keyword_names(function, params, what):
    """The tuning parameters a restriction called with keywords takes (all for **kwargs)."""
    import inspect

    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return list(params)
    if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        return list(params)
    names = [p.name for p in signature.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [n for n in names if n not in params]
    if unknown:
        raise _unsupported(what, f"takes {unknown}, which are not tuning parameters")
    return [n for n in params if n in names]


class _Translation:
    def __init__(self, tune_params):
        if not isinstance(tune_params, dict) or not tune_params:
            raise TypeError("tune_kernel: tune_params must be a non-empty dict {name: [values]}")
        self.params = {}
        for name, values in tune_params.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise _unsupported(f"tune_params[{name!r}]", "a parameter name must be an identifier")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise TypeError(f"tune_kernel: tune_params[{name!r}] must be a list of values")
            self.params[name] = [_integer(v, f"tune_params[{name!r}]") for v in values]
            if not self.params[name]:
                raise _unsupported(f"tune_params[{name!r}]", "an empty list of values")
        self.constraints = []

    def expression(self, value, what, constants=None):
        """A Kernel Tuner integer expression (int, str over the parameters, callable of the config
        dict) as a ktune expression."""
        if isinstance(value, (numbers.Integral, np.integer)):
            return str(int(value))
        if isinstance(value, str):
            try:
                return _expressions.translate(value, self.params, constants)
            except SyntaxError as error:
                raise _unsupported(what, f"{value!r} is not a Python expression ({error.msg})") from None
            except _expressions.NotTranslatable:
                names = _expressions.names_in(value)
                code = compile(value, what, "eval")
                env = dict(constants or {})
                params = {n: self.params[n] for n in self.params if n in names}
                return self._tabulated(
                    lambda config: int(eval(code, {"__builtins__": __builtins__}, {**env, **{n: config[n] for n in params}})),
                    params, what)
        if callable(value):
            return self._tabulated(lambda config: int(value(config)), self.params, what)
        raise _unsupported(what, f"{value!r} is neither an integer, an expression string nor a callable")

    def _tabulated(self, function, params, what):
        used, table = _expressions.evaluate_per_configuration(function, params, what)
        return _expressions.table_expression(used, table, what)

    def restrict(self, restriction, what):
        """Adds one Kernel Tuner restriction as ktune constraints."""
        if isinstance(restriction, str):
            try:
                self.constraints.append(_expressions.translate(restriction, self.params))
                return
            except SyntaxError as error:
                raise _unsupported(what, f"{restriction!r} is not a Python expression ({error.msg})") from None
            except _expressions.NotTranslatable:
                names = _expressions.names_in(restriction)
                code = compile(restriction, what, "eval")
                params = {n: self.params[n] for n in self.params if n in names}
                check = lambda config: bool(eval(code, {"__builtins__": __builtins__},  # noqa: E731
                                                 {n: config[n] for n in params}))
        elif isinstance(restriction, tuple) and len(restriction) in (2, 3) and callable(restriction[0]):
            function, names = restriction[0], list(restriction[1])
            unknown = [n for n in names if n not in self.params]
            if unknown:
                raise _unsupported(what, f"names {unknown}, which are not tuning parameters")
            params = {n: self.params[n] for n in names}
            check = lambda config: bool(function(**{n: config[n] for n in names}))  # noqa: E731
        elif callable(restriction):
            # Called with the parameters as keywords: those it names are what it depends on.
            params = {n: self.params[n] for n in _keyword_names(restriction, self.params, what)}
            check = lambda config: bool(restriction(**{n: config[n] for n in params}))  # noqa: E731
        else:
            raise _unsupported(what, f"{restriction!r} is neither a string, a callable nor a (callable, names) tuple")
        used, table = _expressions.evaluate_per_configuration(check, params, what)
        self.constraints.extend(_expressions.table_constraints(used, table))

    def restrict_all(self, restrictions):
        if restrictions is None:
            return
        if callable(restrictions) and not isinstance(restrictions, (list, tuple)):
            # One callable of the whole configuration dict (Kernel Tuner's older form).
            used, table = _expressions.evaluate_per_configuration(
                lambda config: bool(restrictions(config)), self.params, "restrictions")
            self.constraints.extend(_expressions.table_constraints(used, table))
            return
        if isinstance(restrictions, str):
            restrictions = [restrictions]
        for i, r in enumerate(restrictions):
            self.restrict(r, f"restrictions[{i}]")


def translate_tune_kernel(kernel_name, kernel_source, problem_size, arguments, tune_params, folder,
                          grid_div_x=None, grid_div_y=None, grid_div_z=None, restrictions=None, answer=None,
                          atol=1e-6, verify=None, lang=None, smem_args=None, cmem_args=None, texmem_args=None,
                          compiler=None, compiler_options=None, defines=None, block_size_names=None,
                          objective=None, objectives=None, metrics=None, observers=None):
    """tune_kernel's arguments as (ktune spec dict, sizes dict), with the arrays written as .npy
    files into `folder` (the spec's base_dir). Raises UnsupportedArgument (a ValueError) naming
    an argument ktune cannot honour."""
    if lang is not None and str(lang).upper() not in ("CUDA", "CUPY", "NVCUDA"):
        raise _unsupported("lang", f"{lang!r}: ktune tunes CUDA kernels only (lang None, \"CUDA\", \"cupy\" or \"nvcuda\")")
    if verify is not None:
        raise _unsupported("verify", "a custom Python verification function cannot run in ktune's runner; "
                                     "pass answer (and atol) instead")
    if texmem_args:
        raise _unsupported("texmem_args", "texture memory is not supported")
    if compiler not in (None, "nvrtc"):
        raise _unsupported("compiler", f"{compiler!r}: ktune compiles with NVRTC")
    if observers:
        raise _unsupported("observers", "observers (power, registers, ...) are not supported; ktune records registers itself")
    if metrics:
        raise _unsupported("metrics", "user metrics are not supported; results carry time in ms")
    wanted = objectives or objective
    if wanted not in (None, "time") and wanted != {"time": False}:
        raise _unsupported("objective", f"{wanted!r}: ktune minimises time only")
    if not isinstance(kernel_name, str) or not kernel_name:
        raise TypeError("tune_kernel: kernel_name must be the kernel's name")

    t = _Translation(tune_params)
    if any(name in kernel_name for name in t.params if f"<{name}" in kernel_name or f", {name}" in kernel_name
           or f",{name}" in kernel_name):
        raise _unsupported("kernel_name", f"{kernel_name!r} has tuning parameters as template arguments; pass them "
                                          "as #defines (ktune's spec supports \"pass_params\": \"template\" directly)")
    code, source_folder = _kernel_source(kernel_source)

    # Block: Kernel Tuner's block_size_names (default block_size_x/y/z); a name that is no parameter
    # gets Kernel Tuner's default (256, 1, 1).
    names = list(block_size_names) if block_size_names else []
    names += DEFAULT_BLOCK_SIZE_NAMES[len(names):]
    block = [n if n in t.params else str(d) for n, d in zip(names, (256, 1, 1))]
    block_params = [n for n in names if n in t.params]
    if block_params:
        t.constraints.append(" * ".join(block_params) + f" <= {MAX_THREADS_PER_BLOCK}")

    # Problem size: integers become the spec's sizes; strings are expressions over the parameters.
    if callable(problem_size):
        raise _unsupported("problem_size", "a callable problem size is not supported; pass integers or strings")
    if isinstance(problem_size, (str, numbers.Integral, np.integer)):
        problem_size = (problem_size,)
    problem_size = list(problem_size)
    if not 1 <= len(problem_size) <= 3:
        raise _unsupported("problem_size", "must have 1 to 3 dimensions")
    sizes, size_exprs = {}, []
    for i, p in enumerate(problem_size):
        if isinstance(p, (numbers.Integral, np.integer)):
            sizes[SIZE_NAMES[i]] = int(p)
            size_exprs.append(SIZE_NAMES[i])
        elif isinstance(p, str):
            size_exprs.append(t.expression(p, f"problem_size[{i}]"))
        else:
            raise TypeError(f"tune_kernel: problem_size[{i}] must be an integer or a string")
    size_exprs += ["1"] * (3 - len(size_exprs))

    # Grid: ceil(problem size / divisor); the divisor defaults to the block size's parameter.
    grid = []
    for i, div in enumerate((grid_div_x, grid_div_y, grid_div_z)):
        what = f"grid_div_{'xyz'[i]}"
        if div is None:
            divisor = names[i] if names[i] in t.params else "1"
        elif isinstance(div, (list, tuple)):
            divisor = " * ".join(f"({t.expression(d, f'{what}[{j}]')})" for j, d in enumerate(div)) or "1"
        else:
            divisor = t.expression(div, what)
        grid.append(size_exprs[i] if divisor == "1" else f"ceil_div({size_exprs[i]}, {divisor})")

    t.restrict_all(restrictions)

    # Arguments: arrays become buffers filled from .npy files, scalars scalar arguments.
    if not isinstance(arguments, (list, tuple)):
        raise TypeError("tune_kernel: arguments must be a list of arrays and scalars")
    if answer is not None and len(answer) != len(arguments):
        raise ValueError(f"tune_kernel: answer has {len(answer)} entries, arguments {len(arguments)}: "
                         "one per argument (None for those not checked)")
    args, outputs = [], {}
    for i, value in enumerate(arguments):
        name = f"arg{i}"
        array = _as_numpy(value)
        if array is not None:
            buffer = {"name": name, "type": _element_type(array, f"arguments[{i}]") + "*", "count": int(array.size),
                      "init": {"npy": _write_npy(folder, name, array)}}
            expected = None if answer is None else answer[i]
            if expected is not None:
                expected = _as_numpy(expected)
                if expected is None:
                    raise TypeError(f"tune_kernel: answer[{i}] must be an array like arguments[{i}]")
                if expected.size != array.size:
                    raise ValueError(f"tune_kernel: answer[{i}] has {expected.size} elements, arguments[{i}] "
                                     f"{array.size}")
                expected = expected.astype(array.dtype, copy=False)
                buffer["output"] = True
                outputs[name] = {"answer": {"npy": _write_npy(folder, name + "_answer", expected)},
                                 "atol": float(atol), "rtol": KERNEL_TUNER_RTOL}
            args.append(buffer)
        elif isinstance(value, (np.generic, numbers.Number)):
            if answer is not None and answer[i] is not None:
                raise ValueError(f"tune_kernel: answer[{i}] is given for a scalar argument")
            args.append(_scalar(name, value, i))
        else:
            raise _unsupported(f"arguments[{i}]", f"{type(value).__name__} is neither an array (NumPy, CuPy, "
                                                  "PyTorch) nor a scalar")

    # Kernel Tuner's implicit #defines besides the parameters (which ktune passes as -D itself).
    prefix = ["#define kernel_tuner 1"]
    for n, b in zip(names, block):
        if n not in t.params:
            prefix.append(f"#define {n} {b}")
    grid_defines = [(g, expr) for g, expr in zip(GRID_SIZE_NAMES, grid) if g in code and g not in t.params]
    if grid_defines:
        prefix.append("#define KTUNE_CEIL_DIV(a, b) (((a) + (b) - 1) / (b))")
    for g, expr in grid_defines:
        prefix.append(f"#define {g} ({_c_expression(expr, sizes)})")
    for n, v in (defines or {}).items():
        if n in t.params:
            continue
        if callable(v) or (isinstance(v, str) and any(p in v for p in t.params)):
            raise _unsupported(f"defines[{n!r}]", "defines computed from the parameters are not supported; "
                                                  "parameters are #defined already")
        prefix.append(f"#define {n} {v}")
    source = "\n".join(prefix) + "\n#line 1\n" + code

    options = []
    for option in compiler_options or []:
        if option.startswith(("-arch", "--gpu-architecture", "-code", "--gpu-code")):
            continue  # ktune compiles for the GPU it tunes on
        options.append(option)

    spec = {
        "ktune_spec": 1,
        "name": "".join(c if c.isalnum() or c in "_-." else "_" for c in kernel_name)[:64],
        "description": "translated from Kernel Tuner's tune_kernel",
        "source": {"code": source},
        "entry": kernel_name,
        "sizes": list(sizes),
        "params": t.params,
        "default": {},
        "launch": {"grid": grid, "block": block},
        "args": args,
        "verify": {"outputs": outputs} if outputs else False,
    }
    if t.constraints:
        spec["constraints"] = t.constraints
    if options or source_folder:
        spec["compile"] = {}
        if options:
            spec["compile"]["options"] = options
        if source_folder:
            spec["compile"]["include_dirs"] = [source_folder]
    if smem_args:
        if set(smem_args) - {"size"}:
            raise _unsupported("smem_args", "only {\"size\": ...} (dynamic shared memory bytes) is supported")
        spec["launch"]["shared_memory"] = t.expression(smem_args.get("size", 0), "smem_args[\"size\"]")
    if cmem_args:
        constants = []
        for name, value in cmem_args.items():
            array = _as_numpy(value)
            if array is None:
                array = np.asarray(value)
            if array.ndim == 0:
                array = array.reshape(1)
            constants.append({"name": name, "type": _element_type(array, f"cmem_args[{name!r}]"),
                              "init": {"npy": _write_npy(folder, f"cmem_{name}", array)}})
        spec["constants"] = constants
    spec["default"] = _first_valid(t, spec, folder)
    return spec, sizes


def _scalar(name, value, i):
    if isinstance(value, (bool, np.bool_)):
        raise _unsupported(f"arguments[{i}]", "a bool scalar; pass numpy.int32(0/1)")
    if isinstance(value, np.generic):
        kind = value.dtype.name
        if kind not in _DTYPES or kind in ("bool",):
            raise _unsupported(f"arguments[{i}]", f"scalar dtype {kind}")
        scalar_type = _DTYPES[kind]
        if scalar_type in ("half",):
            raise _unsupported(f"arguments[{i}]", "a float16 scalar")
    else:
        # Kernel Tuner wants NumPy scalars; plain Python numbers get the C types a kernel usually takes.
        scalar_type = "int32" if isinstance(value, numbers.Integral) else "float"
    if scalar_type in ("float", "double"):
        return {"name": name, "type": scalar_type, "value": float(value)}
    return {"name": name, "type": scalar_type, "value": str(int(value))}


def _c_expression(expr, sizes):
    """A ktune launch expression as C for a #define (sizes are known: they are literals)."""
    text = expr
    for n, v in sizes.items():
        text = text.replace(n, str(v))
    # ceil_div(a, b) -> ((a) + (b) - 1) / (b) needs the arguments; a helper macro does it.
    return text.replace("ceil_div(", "KTUNE_CEIL_DIV(")


_PROBE_SIZE = "ktune_probe"
MAX_DEFAULT_SEARCH = 1_000_000


def _first_valid(t, spec, folder):
    """A default configuration: Kernel Tuner has none, so the first valid one in its order. The
    spec's constraints are checked by the C++ parser: a probe spec holds them behind a size (so
    its own default is not checked at load), and each candidate is asked at that size."""
    import itertools

    import ktune  # the extension

    probe = dict(spec)
    probe["default"] = {n: v[0] for n, v in t.params.items()}
    probe["sizes"] = list(spec["sizes"]) + [_PROBE_SIZE]
    probe["constraints"] = [f"{_PROBE_SIZE} == 0 || ({c})" for c in spec.get("constraints", [])]
    parsed = ktune.Spec.from_dict(probe, base_dir=str(folder))
    names = list(t.params)
    sizes = {n: 1 for n in probe["sizes"]}
    for i, values in enumerate(itertools.product(*t.params.values())):
        if i >= MAX_DEFAULT_SEARCH:
            break
        config = dict(zip(names, values))
        if parsed.why_invalid(config, sizes) is None:
            return config
    raise _unsupported("restrictions", "no configuration satisfies them (ktune needs at least one valid "
                                       "configuration)")


def _time_ns(m):
    """A measurement's time: its median, or for one pruned after its first runs (no median) the
    mean or least of the samples it got; None when it got none."""
    for t in (m.time_ns, m.mean_ns, m.min_ns):
        if t is not None:
            return t
    return None


def results_in_kernel_tuner_shape(params, measurements, tuned, iterations, compiler_options, wall_seconds):
    """(results, env) as Kernel Tuner returns them, from the tuning's evaluations."""
    best = {}
    # Every configuration that ran correctly is a result, as in Kernel Tuner: measured to the end
    # ("ok") or stopped early as clearly slower than the best ("pruned": its time is the estimate of
    # the samples it got). The finalists are measured again: keep each configuration's last "ok".
    for m in measurements:
        if m.status not in ("ok", "pruned") or _time_ns(m) is None:
            continue
        key = tuple(m.config[n] for n in params)
        if m.status == "ok" or key not in best:
            best[key] = m
    results = []
    for m in best.values():
        r = {n: m.config[n] for n in params}
        r["time"] = _time_ns(m) / 1e6
        r["times"] = None  # ktune keeps the statistics, not every sample: see time_min/time_mean/time_std
        r["time_min"] = None if m.min_ns is None else m.min_ns / 1e6
        r["time_mean"] = None if m.mean_ns is None else m.mean_ns / 1e6
        r["time_std"] = None if m.stddev_ns is None else m.stddev_ns / 1e6
        r["samples"] = m.samples
        # A pipeline: each kernel's median, named as `ktune export --format kernel-tuner` names it.
        for i, stage_ns in enumerate(m.stage_ns):
            r[f"time_kernel_{i + 1}"] = stage_ns / 1e6
        r["ktune_status"] = m.status
        r["compile_time"] = (m.compile_seconds or 0.0) * 1e3
        r["benchmark_time"] = m.gpu_seconds * 1e3
        r["verification_time"] = 0.0
        r["framework_time"] = 0.0
        r["strategy_time"] = 0.0
        r["registers"] = m.registers
        r["timestamp"] = time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime())
        results.append(r)
    arch = tuned.arch
    env = {
        "device_name": tuned.device.name,
        "compute_capability": arch[3:] if arch.startswith("sm_") else arch,
        "iterations": iterations,
        "compiler_options": list(compiler_options or []),
        "best_config": None,
        "strategy": tuned.strategy,
        "ktune_evaluated": tuned.evaluated,
        "ktune_by_status": dict(tuned.by_status),
        "total_framework_time": wall_seconds * 1e3,
        "total_compile_time": tuned.compile_seconds * 1e3,
        "total_benchmark_time": tuned.gpu_seconds * 1e3,
    }
    if results:
        env["best_config"] = min(results, key=lambda r: r["time"])
    return results, env


def tune_kernel(kernel_name, kernel_source, problem_size, arguments, tune_params, grid_div_x=None,
                grid_div_y=None, grid_div_z=None, restrictions=None, answer=None, atol=1e-6, verify=None,
                verbose=False, lang=None, device=0, platform=0, smem_args=None, cmem_args=None,
                texmem_args=None, compiler=None, compiler_options=None, defines=None, log=None, iterations=7,
                block_size_names=None, quiet=False, strategy=None, strategy_options=None, cache=None,
                metrics=None, simulation_mode=None, parallel=None, observers=None, objective=None,
                objective_higher_is_better=None, objectives=None, seed=None, engine=None, db=None):
    """Kernel Tuner's tune_kernel, run by ktune; returns (results, env) in Kernel Tuner's shape.

    See python/README.md ("Kernel Tuner scripts") for what maps to what. Beyond Kernel Tuner's
    arguments: engine (a ktune.Engine to reuse: its workers are warm) and db (the store file).
    cache: a ktune store file next to Kernel Tuner's cache name (NAME.json -> NAME.ktune.db), whose
    measurements later runs reuse; without it the tuning starts cold in a temporary folder, as
    Kernel Tuner does without a cache. iterations: ktune times each configuration until its median
    is stable (at least `iterations` samples are not enforced)."""
    import ktune

    if simulation_mode:
        raise _unsupported("simulation_mode", "use ktune.Recording with a ktune.Engine to replay measurements")
    started = time.perf_counter()
    options = dict(strategy_options or {})
    budget = int(options.pop("max_fevals", 0) or 0)
    max_seconds = float(options.pop("time_limit", 0) or 0)
    if strategy not in _STRATEGIES and not isinstance(strategy, str):
        raise _unsupported("strategy", f"{strategy!r}: a user-defined strategy object is not supported")
    ktune_strategy = _STRATEGIES.get(strategy, "bestfirst")
    if ktune_strategy == "random" and not budget:
        fraction = float(options.pop("fraction", 0.1))
        budget = max(1, int(fraction * _product(tune_params)))

    with tempfile.TemporaryDirectory(prefix="ktune-tune-kernel-") as folder:
        spec_dict, sizes = translate_tune_kernel(
            kernel_name, kernel_source, problem_size, arguments, tune_params, folder, grid_div_x=grid_div_x,
            grid_div_y=grid_div_y, grid_div_z=grid_div_z, restrictions=restrictions, answer=answer, atol=atol,
            verify=verify, lang=lang, smem_args=smem_args, cmem_args=cmem_args, texmem_args=texmem_args,
            compiler=compiler, compiler_options=compiler_options, defines=defines, block_size_names=block_size_names,
            objective=objective, objectives=objectives, metrics=metrics, observers=observers)
        spec = ktune.Spec.from_dict(spec_dict, base_dir=folder)
        if verbose:
            print(f"ktune: {spec.space_size(sizes)} valid configurations of {spec.product}")
        owned = engine is None
        if owned:
            if db is None and cache is not None:
                base = os.fspath(cache)
                db = (base[:-5] if base.endswith(".json") else base) + ".ktune.db"
            engine = ktune.Engine(db=db or os.path.join(folder, "store.db"), device=device,
                                  cubin_cache=None if db else os.path.join(folder, "cubins"))
        seen = []
        try:
            tuned = engine.tune(spec, sizes, strategy=ktune_strategy, budget=budget, max_seconds=max_seconds,
                                force=True, seed=1 if seed is None else int(seed), on_evaluation=seen.append)
        except ktune.KtuneError as error:
            # Kernel Tuner raises when a kernel's output is wrong; ktune goes on, and fails only when
            # no configuration ran correctly: then say how the first wrong one differs.
            wrong = [m for m in seen if m.status == "wrong_result"]
            if wrong and not any(m.status in ("ok", "pruned") for m in seen):
                raise RuntimeError(f"tune_kernel: the output of every configuration differs from the answer; the "
                                   f"first: {_format_config(wrong[0].config)}: {wrong[0].message}") from error
            raise
        finally:
            if owned:
                engine.close()
    results, env = results_in_kernel_tuner_shape(list(spec_dict["params"]), seen, tuned, iterations,
                                                 compiler_options, time.perf_counter() - started)
    if not quiet and env["best_config"] is not None:
        best = env["best_config"]
        print("best performing configuration:",
              ", ".join(f"{n}={best[n]}" for n in spec_dict["params"]) + f", time={best['time']:.6f}ms")
    return results, env


def _format_config(config):
    return " ".join(f"{k}={v}" for k, v in config.items())


def _product(tune_params):
    total = 1
    for values in tune_params.values():
        total *= len(values)
    return total
