"""On a GPU (skipped with the reason where there is none): a PyTorch program calls a ktune-tuned
softmax through the launcher and checks it against torch.softmax; the same through CuPy; Kernel
Tuner example scripts run through ktune.tune_kernel with only their import changed, and with
Kernel Tuner itself where it is installed. Bounds come from the device, not one card."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ktune
from conftest import ROOT

pytestmark = pytest.mark.gpu
SOFTMAX = ROOT / "examples" / "softmax_rows.json"
EXAMPLES = ROOT / "examples" / "python"


@pytest.fixture
def gpu_engine(tmp_path):
    engine = ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins")
    try:
        engine.device()
    except ktune.NoGpuError as error:
        engine.close()
        pytest.skip(f"needs a GPU: {error}")
    yield engine
    engine.close()


@pytest.mark.parametrize("rows, cols", [(4096, 1024), (1000, 333)])
def test_pytorch_calls_a_tuned_softmax(gpu_engine, rows, cols):
    torch = pytest.importorskip("torch")
    spec = ktune.Spec.from_file(SOFTMAX)
    sizes = {"M": rows, "N": cols}
    softmax = gpu_engine.kernel(spec, sizes, on_miss="tune", strategy="random", budget=8)
    assert softmax.rule == "exact" and softmax.tuned is not None

    x = torch.randn(rows, cols, device="cuda") * 4
    y = torch.empty_like(x)
    softmax(x, y)
    torch.testing.assert_close(y, torch.softmax(x, dim=1), rtol=1e-4, atol=1e-6)

    # Again on a stream of the caller's: the launch goes on torch's current stream.
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        x2 = torch.randn(rows, cols, device="cuda")
        y2 = torch.full_like(x2, float("nan"))
        for _ in range(3):
            softmax(x2, y2)
        expected = torch.softmax(x2, dim=1)
    side.synchronize()
    torch.testing.assert_close(y2, expected, rtol=1e-4, atol=1e-6)

    with pytest.raises(ktune.ArgumentError, match="element type float64"):
        softmax(x.double(), y)
    with pytest.raises(ktune.ArgumentError, match="not on a CUDA device"):
        softmax(x.cpu(), y)


def test_cupy_calls_the_default_softmax(gpu_engine):
    cupy = pytest.importorskip("cupy")
    spec = ktune.Spec.from_file(SOFTMAX)
    softmax = gpu_engine.kernel(spec, {"M": 512, "N": 256}, on_miss="default")
    assert softmax.config == spec.default_config
    x = cupy.random.randn(512, 256, dtype=cupy.float32)
    y = cupy.empty_like(x)
    softmax(x, y)
    e = cupy.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(cupy.asnumpy(y), cupy.asnumpy(e / e.sum(axis=1, keepdims=True)), rtol=1e-4, atol=1e-6)


def run_example(name, tuner, tmp_path, *arguments):
    """Runs examples/python/NAME with Kernel Tuner's import, or with only the import changed to ktune."""
    text = (EXAMPLES / name).read_text()
    if tuner == "ktune":
        text = text.replace("from kernel_tuner import tune_kernel", "from ktune import tune_kernel")
        text = text.replace("import kernel_tuner\n", "import ktune as kernel_tuner\n")
    script = tmp_path / f"{tuner}_{name}"
    script.write_text(text)
    env = dict(os.environ, KTUNE_DB=str(tmp_path / f"{tuner}.db"))
    return subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=540)


@pytest.mark.parametrize("name", ["vector_add.py", "convolution.py"])
def test_kernel_tuner_examples_run_with_only_the_import_changed(gpu_engine, tmp_path, name):
    gpu_engine.close()  # the script's own engine uses the GPU
    done = run_example(name, "ktune", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "best:" in done.stdout


@pytest.mark.parametrize("name", ["vector_add.py", "convolution.py"])
def test_kernel_tuner_examples_run_with_kernel_tuner_too(gpu_engine, tmp_path, name):
    pytest.importorskip("kernel_tuner")
    pytest.importorskip("cupy")
    gpu_engine.close()
    done = run_example(name, "kernel_tuner", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tune_kernel_results_have_kernel_tuners_shape(gpu_engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    size = 1 << 20
    a = np.random.randn(size).astype(np.float32)
    b = np.random.randn(size).astype(np.float32)
    source = (EXAMPLES / "vector_add.py").read_text().split('"""')[3]  # the kernel string
    params = {"block_size_x": [64, 128, 256, 512, 1024]}
    results, env = ktune.tune_kernel("vector_add", source, size, [np.zeros_like(a), a, b, np.int32(size)], params,
                                     answer=[a + b, None, None, None], engine=gpu_engine, quiet=True)
    assert sorted(r["block_size_x"] for r in results) == params["block_size_x"]
    for r in results:
        assert r["time"] > 0 and r["time_min"] <= r["time"] and r["samples"] >= 1
    assert env["device_name"] == gpu_engine.device().name
    assert env["best_config"] == min(results, key=lambda r: r["time"])

    wrong = a + b + 1
    with pytest.raises((RuntimeError, ktune.KtuneError), match="differ"):
        ktune.tune_kernel("vector_add", source, size, [np.zeros_like(a), a, b, np.int32(size)], params,
                          answer=[wrong, None, None, None], engine=gpu_engine, quiet=True)


def test_a_pipelines_tune_result_has_each_kernels_time(gpu_engine):
    spec = ktune.Spec.from_file(ROOT / "examples" / "reduce_two_stage.json")
    seen = []
    tuned = gpu_engine.tune(spec, {"N": 1 << 22}, strategy="random", budget=4, on_evaluation=seen.append)
    assert [s["entry"] for s in tuned.stages] == ["reduce_partial", "reduce_final"]
    assert all(0 < s["median_ns"] <= tuned.time_ns for s in tuned.stages)
    assert any(len(m.stage_ns) == 2 for m in seen if m.status == "ok")
    # Asked again, the table's exact answer still has them (from the winner's measurement).
    again = gpu_engine.tune(spec, {"N": 1 << 22})
    assert again.rule == "exact" and len(again.stages) == 2
