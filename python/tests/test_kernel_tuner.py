"""ktune.tune_kernel's translation of Kernel Tuner's arguments into a ktune spec (no GPU): the
space it describes (restrictions as translated expressions and as Python callables evaluated once
per configuration), the launch geometry, Kernel Tuner's implicit #defines (compiled for real by
NVRTC), the arrays written as .npy inputs and answers, and the errors for what ktune cannot do."""

import itertools

import numpy as np
import pytest

import ktune
from ktune import _expressions

VECTOR_ADD = """
__global__ void vector_add(float *c, const float *a, const float *b, int n) {
    int i = blockIdx.x * block_size_x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""

# Kernel Tuner's implicit defines: grid_size_x, block_size_y (no parameter: 1), kernel_tuner.
USES_IMPLICIT_DEFINES = """
#if !defined(kernel_tuner) || block_size_y != 1
#error Kernel Tuner's implicit defines are missing
#endif
__global__ void scale(float *x, int n) {
    int i = blockIdx.x * block_size_x * TILE + threadIdx.x;
    static_assert(grid_size_x > 0, "grid_size_x is a compile-time constant");
    for (int t = 0; t < TILE; t++) if (i + t * block_size_x < n) x[i + t * block_size_x] *= 2.0f;
}
"""


def vector_add_arguments(size=1000):
    a = np.arange(size, dtype=np.float32)
    b = np.ones(size, dtype=np.float32)
    return [np.zeros_like(a), a, b, np.int32(size)], a + b


def translate(tmp_path, source=VECTOR_ADD, name="vector_add", problem_size=1000, arguments=None, params=None, **kw):
    if arguments is None:
        arguments, _ = vector_add_arguments(problem_size)
    params = params or {"block_size_x": [32, 64, 128, 256, 512, 1024, 2048]}
    spec, sizes = ktune.translate_tune_kernel(name, source, problem_size, arguments, params, tmp_path, **kw)
    return spec, sizes, ktune.Spec.from_dict(spec, base_dir=str(tmp_path))


def valid_configs(spec, sizes):
    names = list(spec.params)
    configs = [dict(zip(names, v)) for v in itertools.product(*spec.params.values())]
    return [c for c in configs if spec.why_invalid(c, sizes) is None]


def test_vector_add_becomes_a_spec_with_kernel_tuners_grid_block_and_answer(tmp_path):
    arguments, expected = vector_add_arguments()
    spec, sizes, parsed = translate(tmp_path, arguments=arguments, answer=[expected, None, None, None], atol=1e-3)
    assert sizes == {"problem_size_x": 1000}
    assert spec["launch"]["grid"][0] == "ceil_div(problem_size_x, block_size_x)"
    assert spec["launch"]["block"] == ["block_size_x", "1", "1"]
    # Kernel Tuner's implicit restriction: at most 1024 threads per block.
    assert parsed.space_size(sizes) == 6
    assert [a["type"] for a in spec["args"]] == ["float*", "float*", "float*", "int32"]
    assert spec["args"][3]["value"] == "1000"
    assert spec["args"][0]["output"] is True and "output" not in spec["args"][1]
    out = spec["verify"]["outputs"]["arg0"]
    assert out["atol"] == 1e-3 and out["rtol"] == 1e-5  # np.allclose's rtol, as Kernel Tuner verifies
    np.testing.assert_array_equal(np.load(tmp_path / out["answer"]["npy"]), expected)
    np.testing.assert_array_equal(np.load(tmp_path / spec["args"][1]["init"]["npy"]), arguments[1])


def test_without_an_answer_nothing_is_verified(tmp_path):
    spec, _, _ = translate(tmp_path)
    assert spec["verify"] is False


@pytest.mark.parametrize("restriction", [
    "block_size_x % 128 == 0 and not block_size_x == 512",
    "block_size_x / 3 > 100",                          # true division: evaluated in Python
    "block_size_x in [64, 256] or block_size_x ** 2 >= 2**20",
    "min(block_size_x, 300) == 256 if block_size_x > 100 else block_size_x == 32",
])
def test_string_restrictions_describe_the_same_space_as_python(tmp_path, restriction):
    spec, sizes, parsed = translate(tmp_path, restrictions=[restriction])
    values = spec["params"]["block_size_x"]
    expected = [v for v in values if eval(restriction, {}, {"block_size_x": v}) and v <= 1024]
    assert [c["block_size_x"] for c in valid_configs(parsed, sizes)] == expected


def test_callable_restrictions_are_evaluated_once_per_configuration(tmp_path):
    calls = []

    def only_some(block_size_x, tile):
        calls.append((block_size_x, tile))
        return (block_size_x * tile) % 3 != 0

    params = {"block_size_x": [32, 64, 96, 128], "tile": [1, 2, 3, 4], "unused": [0, 1]}
    spec, sizes, parsed = translate(tmp_path, params=params, restrictions=[only_some, lambda unused: unused == 1])
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 16  # once per (block_size_x, tile)
    got = {(c["block_size_x"], c["tile"], c["unused"]) for c in valid_configs(parsed, sizes)}
    assert got == {(b, t, 1) for b in params["block_size_x"] for t in params["tile"] if (b * t) % 3}


def test_a_single_callable_of_the_configuration_dict(tmp_path):
    params = {"block_size_x": [32, 64, 128], "block_size_y": [1, 2, 4, 8, 16, 32]}
    spec, sizes, parsed = translate(tmp_path, params=params, restrictions=lambda p: p["block_size_y"] <= 4)
    # with the implicit block_size_x * block_size_y <= 1024
    assert parsed.space_size(sizes) == 9


def test_a_large_table_of_invalid_configurations_is_split_under_the_length_limit(tmp_path):
    params = {"block_size_x": list(range(1, 401)), "b": list(range(1, 41))}
    spec, sizes, parsed = translate(tmp_path, params=params, restrictions=[lambda block_size_x, b: (block_size_x * 7 + b) % 11 != 0])
    assert len(spec["constraints"]) > 2
    assert all(len(c) <= _expressions.MAX_EXPRESSION_CHARS for c in spec["constraints"])
    expected = sum(1 for x in params["block_size_x"] for b in params["b"] if (x * 7 + b) % 11)
    assert parsed.space_size(sizes) == expected


def test_grid_divisors_problem_size_strings_and_block_size_names(tmp_path):
    params = {"bx": [16, 32], "by": [4, 8], "tile_y": [1, 2]}
    arguments = [np.zeros(64 * 64, np.float32)]
    source = "__global__ void k(float *x) { x[blockIdx.x * bx + threadIdx.x] = by * tile_y; }"
    spec, sizes, parsed = translate(tmp_path, source=source, name="k", problem_size=(64, "64 * tile_y"),
                                    arguments=arguments, params=params, block_size_names=["bx", "by"],
                                    grid_div_y=["by", "tile_y"])
    assert spec["launch"]["block"] == ["bx", "by", "1"]
    assert spec["launch"]["grid"] == ["ceil_div(problem_size_x, bx)", "ceil_div((64 * tile_y), (by) * (tile_y))", "1"]
    assert sizes == {"problem_size_x": 64}
    assert parsed.space_size(sizes) == 8


def test_implicit_defines_compile_with_nvrtc(tmp_path):
    params = {"block_size_x": [64, 128], "TILE": [1, 2]}
    arguments = [np.ones(4096, np.float32), np.int32(4096)]
    spec, sizes, parsed = translate(tmp_path, source=USES_IMPLICIT_DEFINES, name="scale", problem_size=4096,
                                    arguments=arguments, params=params, grid_div_x=["block_size_x", "TILE"])
    with ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins", workers=1) as engine:
        compiled = engine.compile(parsed, {"block_size_x": 128, "TILE": 2}, arch="sm_90", sizes=sizes)
    assert compiled.cubin[:4] == b"\x7fELF"
    assert compiled.launch[0] == (16, 1, 1)


def test_cmem_args_and_smem_args(tmp_path):
    filt = np.arange(49, dtype=np.float32)
    spec, _, parsed = translate(tmp_path, cmem_args={"d_filter": filt}, smem_args={"size": "block_size_x * 4"})
    assert spec["constants"][0]["name"] == "d_filter" and spec["constants"][0]["type"] == "float"
    np.testing.assert_array_equal(np.load(tmp_path / spec["constants"][0]["init"]["npy"]), filt)
    assert spec["launch"]["shared_memory"] == "(block_size_x * 4)"


def test_a_file_kernel_source_and_compiler_options(tmp_path):
    (tmp_path / "va.cu").write_text(VECTOR_ADD)
    spec, _, _ = translate(tmp_path, source=str(tmp_path / "va.cu"), compiler_options=["-arch=sm_80", "--use_fast_math"])
    assert spec["compile"]["options"] == ["--use_fast_math"]  # ktune chooses the architecture
    assert spec["compile"]["include_dirs"] == [str(tmp_path)]


@pytest.mark.parametrize("keywords, message", [
    ({"lang": "OpenCL"}, "lang: 'OpenCL': ktune tunes CUDA kernels only"),
    ({"verify": lambda *a: True}, "verify: a custom Python verification function"),
    ({"texmem_args": {"t": np.zeros(4)}}, "texmem_args: texture memory is not supported"),
    ({"objective": "GFLOP/s"}, "objective: 'GFLOP/s': ktune minimises time only"),
    ({"restrictions": ["block_size_x >"]}, "restrictions[0]: 'block_size_x >' is not a Python expression"),
    ({"restrictions": [lambda tile: True]}, "restrictions[0]: takes ['tile'], which are not tuning parameters"),
    ({"restrictions": ["block_size_x > 4096"]}, "restrictions: no configuration satisfies them"),
])
def test_unsupported_arguments_are_named(tmp_path, keywords, message):
    with pytest.raises(ktune.UnsupportedArgument) as error:
        translate(tmp_path, **keywords)
    assert f"tune_kernel: {message}" in str(error.value)


def test_unsupported_values_are_named(tmp_path):
    with pytest.raises(ktune.UnsupportedArgument, match=r"tune_params\['f'\]: 0.5 is not an integer"):
        translate(tmp_path, params={"block_size_x": [32], "f": [0.5, 1.0]})
    with pytest.raises(ktune.UnsupportedArgument, match=r"arguments\[0\]: dtype complex64 has no ktune buffer type"):
        translate(tmp_path, arguments=[np.zeros(4, np.complex64)])
    with pytest.raises(ktune.UnsupportedArgument, match=r"arguments\[1\]: str is neither an array"):
        translate(tmp_path, arguments=[np.zeros(4, np.float32), "x"])
    with pytest.raises(ktune.UnsupportedArgument, match="kernel_source: a code generator"):
        translate(tmp_path, source=lambda p: VECTOR_ADD)
    with pytest.raises(ValueError, match=r"answer has 1 entries, arguments 4"):
        translate(tmp_path, answer=[None])


def test_tune_kernel_without_a_gpu_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments, expected = vector_add_arguments()
    with ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins", workers=1) as engine:
        try:
            engine.device()
        except ktune.NoGpuError:
            pass
        else:
            pytest.skip("a GPU is present: test_gpu.py tunes for real")
        with pytest.raises(ktune.NoGpuError):
            ktune.tune_kernel("vector_add", VECTOR_ADD, 1000, arguments, {"block_size_x": [64, 128]},
                              answer=[expected, None, None, None], engine=engine, quiet=True)


def test_a_pipelines_kernel_times_are_time_kernel_n_in_the_results():
    from types import SimpleNamespace
    from ktune._kernel_tuner import results_in_kernel_tuner_shape

    def measurement(block, stage_ns):
        return SimpleNamespace(config={"BLOCK": block}, status="ok", time_ns=12000.0, min_ns=11000.0, mean_ns=12100.0,
                               stddev_ns=50.0, samples=40, compile_seconds=0.5, gpu_seconds=0.01, registers=32,
                               stage_ns=stage_ns)

    tuned = SimpleNamespace(arch="sm_90", device=SimpleNamespace(name="GPU"), strategy="random", evaluated=2,
                            by_status={"ok": 2}, compile_seconds=1.0, gpu_seconds=0.02)
    results, _ = results_in_kernel_tuner_shape(["BLOCK"], [measurement(64, [9000.0, 3000.0]), measurement(128, [])],
                                               tuned, 7, [], 1.0)
    by_block = {r["BLOCK"]: r for r in results}
    assert by_block[64]["time_kernel_1"] == 0.009 and by_block[64]["time_kernel_2"] == 0.003
    assert "time_kernel_1" not in by_block[128]

