"""On a GPU (skipped with the reason where there is none): measure, tune with progress, then
lookup and binary answer the tuned configuration. Bounds come from the device, not one card."""

import pytest

import ktune
from conftest import ELF_MAGIC

pytestmark = pytest.mark.gpu
SMALL = {"M": 512, "N": 512, "K": 512}


@pytest.fixture
def gpu_engine(tmp_path):
    engine = ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins")
    try:
        device = engine.device()
    except ktune.NoGpuError as error:
        engine.close()
        pytest.skip(f"needs a GPU: {error}")
    yield engine, device
    engine.close()


def test_measure_the_default(gpu_engine, sgemm):
    engine, _ = gpu_engine
    m = engine.measure(sgemm, SMALL, sgemm.default_config)
    assert m.status == "ok", m.message
    assert m.time_ns > 0
    assert m.registers is None or m.registers > 0


def test_tune_then_lookup_and_binary_answer_the_winner(gpu_engine, sgemm):
    engine, device = gpu_engine
    heard = []
    best = engine.tune(sgemm, SMALL, strategy="random", budget=12, progress=heard.append)
    assert best.rule == "tuned"
    assert best.device == device and best.arch.startswith(device.arch)
    assert 0 < best.evaluated <= 12
    assert heard and heard[-1].best_ns is not None
    assert best.time_ns <= (best.default_ns or float("inf")) * 1.5

    answer = engine.lookup(sgemm, SMALL)
    assert answer.rule == "exact" and answer.config == best.config

    binary = engine.binary(sgemm, SMALL)
    assert binary.rule == "exact" and binary.config == best.config
    assert binary.cubin[:4] == ELF_MAGIC
    grid, block, _ = binary.launch
    assert grid[0] * best.config["BN"] >= SMALL["N"] and grid[1] * best.config["BM"] >= SMALL["M"]
    assert block[0] == (best.config["BM"] // best.config["TM"]) * (best.config["BN"] // best.config["TN"])


def test_tune_async_on_the_gpu(gpu_engine, sgemm):
    engine, _ = gpu_engine
    future = engine.tune_async(sgemm, {"M": 256, "N": 256, "K": 256}, strategy="random", budget=6)
    result = future.result(timeout=300)
    assert result.rule == "tuned" and result.time_ns > 0
