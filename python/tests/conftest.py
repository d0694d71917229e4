"""Shared fixtures: the repository's example specs and recorded measurements, and engines whose
store and cubin cache live in pytest's temporary folder (never the user's ~/.cache)."""

import pathlib

import pytest

import ktune

ROOT = pathlib.Path(__file__).resolve().parents[2]
SGEMM = ROOT / "examples" / "sgemm.json"
# Real SGEMM measurements of an H100 (tests/test_engine_replay.cpp replays the same file).
RECORDED_H100 = ROOT / "tests" / "data" / "h100-sgemm.db"
H100 = ("NVIDIA H100 80GB HBM3", "sm_90")
SIZES = {"M": 2048, "N": 2048, "K": 2048}
ELF_MAGIC = b"\x7fELF"


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a GPU (skips with the reason where there is none)")


@pytest.fixture
def sgemm():
    return ktune.Spec.from_file(SGEMM)


@pytest.fixture
def replay_engine(tmp_path):
    recording = ktune.Recording(RECORDED_H100, device=H100[0], arch=H100[1], nvrtc_version="13.0")
    with ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins", replay=recording) as engine:
        yield engine


@pytest.fixture
def engine(tmp_path):
    with ktune.Engine(db=tmp_path / "store.db", cubin_cache=tmp_path / "cubins", workers=1) as engine:
        yield engine
