"""ktune.export_table / import_table (the lookup table as JSON, as `ktune export` / `ktune import`)
and ktune.sweep (a sweep file, as `ktune sweep`), on real H100 SGEMM measurements replayed."""

import json

import pytest

import ktune
from conftest import H100, RECORDED_H100, ROOT, SIZES


def recording():
    return ktune.Recording(RECORDED_H100, device=H100[0], arch=H100[1], nvrtc_version="13.0")


def write_sweep(tmp_path, sizes):
    sweep = {"ktune_sweep": 1, "strategy": "exhaustive",
             "items": [{"spec": str(ROOT / "examples" / "sgemm.json"), "sizes": sizes}]}
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(sweep))
    return path


def test_sweep_tunes_every_run_then_answers_from_the_table(tmp_path):
    path = write_sweep(tmp_path, [SIZES, {"M": 1024, "N": 1024, "K": 1024}])
    finished = []
    done = ktune.sweep(path, db=tmp_path / "store.db", replay=recording(), on_run_done=finished.append)
    assert done["totals"]["runs"] == 2 and done["totals"]["failed"] == 0
    tuned = [r for r in done["runs"] if r["sizes"] == SIZES][0]
    assert tuned["status"] == "tuned" and tuned["device"] == H100[0] and tuned["time_ns"] > 0
    assert sorted(f["finished"] for f in finished) == [1, 2] and finished[0]["total"] == 2

    again = ktune.sweep(path, db=tmp_path / "store.db", replay=recording())
    assert [r["status"] for r in again["runs"]] == ["done_earlier", "done_earlier"]
    assert again["runs"][0]["config"] == done["runs"][0]["config"]


def test_a_sweep_callback_error_reaches_the_caller(tmp_path):
    def fails(run):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        ktune.sweep(write_sweep(tmp_path, [SIZES]), db=tmp_path / "store.db", replay=recording(), on_run_done=fails)


def test_export_then_import_into_another_store(tmp_path, sgemm):
    ktune.sweep(write_sweep(tmp_path, [SIZES]), db=tmp_path / "a.db", replay=recording())
    text = ktune.export_table(tmp_path / "a.db")
    table = json.loads(text)
    assert len(table["entries"]) == 1
    assert json.loads(ktune.export_table(tmp_path / "a.db", kernel="no-such-kernel"))["entries"] == []

    summary = ktune.import_table(tmp_path / "b.db", text)
    assert summary["entries_added"] == 1 and summary["kernels_added"] == 1
    assert ktune.import_table(tmp_path / "b.db", text)["entries_unchanged"] == 1
    with ktune.Engine(db=tmp_path / "b.db", cubin_cache=tmp_path / "cubins") as engine:
        answer = engine.lookup(sgemm, SIZES, device=H100[0], arch=H100[1])
    assert answer.rule == "exact" and answer.config == table["entries"][0]["config"]


def test_store_errors_are_one_line_exceptions(tmp_path):
    with pytest.raises(ktune.NotFoundError):
        ktune.export_table(tmp_path / "missing.db")
    with pytest.raises(ktune.InvalidArgumentError, match="on_conflict must be keep-faster"):
        ktune.import_table(tmp_path / "b.db", "{}", on_conflict="newest")
    with pytest.raises(ktune.KtuneError):
        ktune.import_table(tmp_path / "b.db", "{not json")
    with pytest.raises(ktune.KtuneError, match=r"bad.json: items\[0\].spec: no such spec file"):
        (tmp_path / "bad.json").write_text('{"ktune_sweep": 1, "items": [{"spec": "nope.json", "sizes": [{}]}]}')
        ktune.sweep(tmp_path / "bad.json", db=tmp_path / "c.db", replay=recording())
