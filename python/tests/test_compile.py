"""Compiling through the real NVRTC in a ktune-worker process (the package's bundled one after
pip install, the build tree's in ctest), the launch geometry at some sizes, and the clear errors
of an engine without a GPU."""

import os

import pytest

import ktune
from conftest import ELF_MAGIC, ROOT, SIZES


def test_compile_gives_a_cubin_the_lowered_name_and_the_launch(engine, sgemm):
    config = {"BM": 128, "BN": 64, "BK": 16, "TM": 8, "TN": 4}
    compiled = engine.compile(sgemm, config, arch="sm_90", sizes=SIZES)
    assert compiled.cubin[:4] == ELF_MAGIC
    assert len(compiled.cubin) > 1000
    assert compiled.arch == "sm_90"
    assert compiled.config == config
    assert "sgemm" in compiled.entry
    grid, block, shared = compiled.launch
    assert grid == (2048 // 64, 2048 // 128, 1)  # ceil_div(N, BN), ceil_div(M, BM)
    assert block == ((128 // 8) * (64 // 4), 1, 1)
    assert shared == 0
    assert not compiled.from_cache

    again = engine.compile(sgemm, config, arch="sm_90")
    assert again.from_cache and again.cubin == compiled.cubin
    assert again.launch is None  # no sizes given
    assert engine.counters()["compiles_from_cache"] >= 1


def test_a_configuration_outside_the_space_is_refused_at_sizes(engine, sgemm):
    with pytest.raises(ktune.InvalidArgumentError, match="BM=48") as raised:
        engine.compile(sgemm, {"BM": 48, "BN": 64, "BK": 8, "TM": 4, "TN": 4}, arch="sm_90", sizes=SIZES)
    assert "\n" not in str(raised.value)
    with pytest.raises(ktune.InvalidArgumentError, match="1024"):
        engine.compile(sgemm, {"BM": 128, "BN": 128, "BK": 8, "TM": 2, "TN": 2}, arch="sm_90", sizes=SIZES)


def test_a_compile_error_carries_nvrtcs_log(engine):
    broken = ktune.Spec.from_dict({
        "ktune_spec": 1, "name": "broken", "source": {"code": "__global__ void k(float* x) { x[0] = undefined_name; }"},
        "entry": "k", "sizes": ["N"], "params": {"B": [32, 64]}, "default": {"B": 32},
        "launch": {"grid": [1, 1, 1], "block": ["B", 1, 1]},
        "args": [{"name": "x", "type": "float*", "count": "N", "output": True}],
    })
    with pytest.raises(ktune.KtuneError, match="undefined_name") as raised:
        engine.compile(broken, {"B": 32}, arch="sm_90")
    assert "compile_error" in str(raised.value)


def test_binary_compiles_the_default_when_nothing_is_tuned(engine, sgemm):
    binary = engine.binary(sgemm, SIZES, device="NVIDIA H100 80GB HBM3", arch="sm_90")
    assert binary.rule == "default"
    assert binary.config == sgemm.default_config
    assert binary.cubin[:4] == ELF_MAGIC
    assert binary.launch[0] == (2048 // 64, 2048 // 64, 1)
    # One kernel per run, taking every argument of the spec; no setup kernels.
    assert [k.entry for k in binary.stages] == ["sgemm"]
    assert binary.stages[0].launch == binary.launch
    assert binary.stages[0].args == ["A", "B", "C", "M", "N", "K"]
    assert binary.setup == []


def test_a_pipelines_binary_lists_every_kernel_with_its_launch_and_arguments(engine):
    pipeline = ktune.Spec.from_file(ROOT / "examples" / "reduce_two_stage.json")
    binary = engine.binary(pipeline, {"N": 1000000}, device="NVIDIA H100 80GB HBM3", arch="sm_90")
    assert binary.cubin[:4] == ELF_MAGIC
    assert [k.entry for k in binary.stages] == ["_Z14reduce_partialPKfPfi", "_Z12reduce_finalPKfPfi"]  # lowered
    assert binary.stages[0].args == ["in", "partial", "n"]
    assert binary.stages[1].args == ["partial", "out", "blocks"]
    # The default: BLOCKS=1024 blocks of BLOCK=256, then one block of FINAL_BLOCK=256.
    assert binary.stages[0].launch == ((1024, 1, 1), (256, 1, 1), 0)
    assert binary.stages[1].launch == ((1, 1, 1), (256, 1, 1), 0)
    assert binary.launch == binary.stages[0].launch
    assert binary.setup == []


def test_setup_kernels_come_with_the_binary_and_with_a_compile_at_sizes(engine):
    gather = ktune.Spec.from_file(ROOT / "examples" / "table_gather.json")
    binary = engine.binary(gather, {"N": 1000}, device="NVIDIA H100 80GB HBM3", arch="sm_90")
    assert [k.entry for k in binary.stages] == ["gather_table"]
    assert [(k.entry, k.args) for k in binary.setup] == [("build_table", ["table", "entries"])]
    assert binary.setup[0].launch == ((4, 1, 1), (256, 1, 1), 0)
    compiled = engine.compile(gather, {"BLOCK": 128, "ITEMS": 2, "SCALE": 4}, arch="sm_90", sizes={"N": 1000})
    assert compiled.launch[0] == (4, 1, 1)  # ceil_div(1000, 128 * 2)
    assert [k.entry for k in compiled.setup] == ["build_table"]
    without_sizes = engine.compile(gather, {"BLOCK": 128, "ITEMS": 2, "SCALE": 4}, arch="sm_90")
    assert without_sizes.stages == [] and without_sizes.setup == []


def test_the_worker_is_found_through_the_explicit_path(tmp_path, sgemm):
    absent = tmp_path / "no-such-ktune-worker"
    with ktune.Engine(db=tmp_path / "s.db", cubin_cache=tmp_path / "c", worker_executable=str(absent)) as engine:
        with pytest.raises(ktune.KtuneError, match="no-such-ktune-worker"):
            engine.compile(sgemm, sgemm.default_config, arch="sm_90")


def test_the_installed_package_bundles_its_helpers():
    folder = os.path.dirname(ktune.__file__)
    if not os.path.exists(os.path.join(folder, "ktune-worker")):
        pytest.skip("ktune imported from the build tree, which keeps its helpers in tools/ and engine/runner/")
    for name in ("ktune-worker", "ktune-runner"):
        assert os.access(os.path.join(folder, name), os.X_OK), name


def has_gpu():
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


@pytest.mark.skipif(has_gpu(), reason="checks the error an engine without a GPU gives")
def test_an_engine_without_a_gpu_says_so(engine, sgemm):
    with pytest.raises(ktune.NoGpuError) as raised:
        engine.measure(sgemm, SIZES, sgemm.default_config)
    assert raised.value.code == "no_gpu"
    assert "driver" in str(raised.value) or "GPU" in str(raised.value)
    assert "\n" not in str(raised.value)
    with pytest.raises(ktune.NoGpuError, match="driver|GPU"):
        engine.device()
    with pytest.raises(ktune.NoGpuError):
        engine.tune(sgemm, SIZES)
    with pytest.raises(ktune.NoGpuError, match="pass device= and arch="):
        engine.lookup(sgemm, SIZES, arch="sm_90")
    with pytest.raises(ktune.NoGpuError):
        engine.compile(sgemm, sgemm.default_config)  # no arch: the device's
