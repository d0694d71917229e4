"""ktune.Engine on recorded measurements (real H100 SGEMM timings replayed, no GPU): tune with a
progress callback, then lookups answered from the SQLite store it wrote, tune_async, and the
callbacks' exceptions reaching the caller."""

import concurrent.futures
import threading

import pytest

import ktune
from conftest import H100, SIZES


def test_lookup_before_tuning_answers_the_default(replay_engine, sgemm):
    answer = replay_engine.lookup(sgemm, SIZES)
    assert answer.rule == "default"
    assert answer.config == sgemm.default_config
    assert answer.time_ns is None


def test_tune_then_lookup_answers_from_the_store(replay_engine, sgemm, tmp_path):
    progress = []
    tuned = replay_engine.tune(sgemm, SIZES, strategy="exhaustive", progress=progress.append)
    assert tuned.rule == "tuned"
    assert tuned.evaluated == 228  # every valid configuration, replayed
    assert tuned.device == ktune.Device(*H100)
    assert tuned.time_ns > 0
    assert sgemm.why_invalid(tuned.config, SIZES) is None
    assert progress, "the progress callback was never called"
    assert all(isinstance(p, ktune.Progress) for p in progress)
    assert progress[-1].valid == 228
    assert [p.done for p in progress] == sorted(p.done for p in progress)

    exact = replay_engine.lookup(sgemm, SIZES)
    assert exact.rule == "exact"
    assert exact.config == tuned.config
    assert exact.time_ns == pytest.approx(tuned.time_ns)
    assert exact.tuned_device == H100[0]

    near = replay_engine.lookup(sgemm, {"M": 2000, "N": 2048, "K": 2048})
    assert near.rule == "nearest_size"
    assert near.config == tuned.config
    assert near.tuned_sizes == SIZES

    elsewhere = replay_engine.lookup(sgemm, SIZES, device="NVIDIA H200", arch="sm_90")
    assert elsewhere.rule == "same_arch"

    again = replay_engine.tune(sgemm, SIZES)
    assert again.rule == "exact" and again.config == tuned.config

    # The store is a real SQLite file: a second engine on it answers without replaying anything.
    replay_engine.close()
    with ktune.Engine(db=replay_engine.store_path, cubin_cache=tmp_path / "cubins") as reader:
        answer = reader.lookup(sgemm, SIZES, device=H100[0], arch=H100[1])
        assert answer.rule == "exact" and answer.config == tuned.config


def test_on_evaluation_sees_every_measurement(replay_engine, sgemm):
    seen = []
    tuned = replay_engine.tune(sgemm, SIZES, strategy="random", budget=20, on_evaluation=seen.append)
    assert tuned.evaluated <= 20
    assert len(seen) >= tuned.evaluated
    assert all(m.status in ("ok", "compile_error", "launch_error", "wrong_result", "pruned") for m in seen)
    assert any(m.time_ns for m in seen)
    # One kernel: no per-kernel times (a pipeline's are in tests/test_gpu_python.py).
    assert all(m.stage_ns == [] for m in seen)
    assert tuned.stages == []


def test_callbacks_run_with_the_gil_on_the_engines_thread(replay_engine, sgemm):
    threads = set()
    replay_engine.tune(sgemm, SIZES, strategy="random", budget=5, progress=lambda p: threads.add(threading.get_ident()))
    assert threads and threading.get_ident() not in threads


def test_an_exception_in_the_progress_callback_reaches_the_caller(replay_engine, sgemm):
    calls = []

    def fail(progress):
        calls.append(progress)
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        replay_engine.tune(sgemm, SIZES, strategy="exhaustive", progress=fail)
    assert len(calls) == 1  # later calls are skipped once one raised


def test_tune_async_returns_a_future(replay_engine, sgemm):
    heard = []
    future = replay_engine.tune_async(sgemm, SIZES, strategy="exhaustive", progress=heard.append)
    assert isinstance(future, concurrent.futures.Future)
    result = future.result(timeout=60)
    assert result.rule == "tuned" and result.evaluated == 228
    assert heard
    assert replay_engine.lookup(sgemm, SIZES).config == result.config


def test_tune_async_errors_arrive_through_the_future(replay_engine, sgemm):
    future = replay_engine.tune_async(sgemm, {"M": 2048, "N": 2048}, strategy="exhaustive")
    with pytest.raises(ktune.InvalidArgumentError, match="K"):
        future.result(timeout=60)


def test_bad_requests_raise_with_one_line_messages(replay_engine, sgemm):
    with pytest.raises(ktune.InvalidArgumentError) as raised:
        replay_engine.tune(sgemm, {"M": 2048, "N": 2048, "K": 2048, "Q": 1})
    assert "Q" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(ktune.KtuneError, match="no_such_strategy"):
        replay_engine.tune(sgemm, SIZES, strategy="no_such_strategy")
    with pytest.raises(ktune.InvalidArgumentError, match="max_seconds"):
        replay_engine.tune(sgemm, SIZES, max_seconds=-1)


def test_a_closed_engine_refuses_tuning_and_keeps_answering_lookups(replay_engine, sgemm):
    replay_engine.tune(sgemm, SIZES, strategy="random", budget=10)
    replay_engine.close()
    with pytest.raises(ktune.KtuneError):
        replay_engine.tune(sgemm, SIZES, force=True)
    assert replay_engine.lookup(sgemm, SIZES).rule == "exact"


def test_get_answers_at_once_and_improves_in_the_background(replay_engine, sgemm):
    progressive = replay_engine.get(sgemm, SIZES, strategy="exhaustive")
    assert isinstance(progressive, ktune.TunedConfig)
    assert progressive.source in ("default", "tuned")  # nothing tuned yet: the default, until the tuning ends
    progressive.wait()
    assert progressive.tuned and progressive.source == "tuned"
    assert progressive.config == replay_engine.lookup(sgemm, SIZES).config
    again = replay_engine.get(sgemm, SIZES)
    assert again.source == "exact" and again.config == progressive.config


def test_evaluations_carry_their_timing_statistics(replay_engine, sgemm):
    seen = []
    replay_engine.tune(sgemm, SIZES, strategy="random", budget=5, on_evaluation=seen.append)
    ok = [m for m in seen if m.status == "ok"]
    assert ok, "no configuration measured ok"
    for m in ok:
        assert m.min_ns <= m.time_ns and m.samples >= 1 and m.stddev_ns >= 0 and m.mean_ns > 0
