"""ktune.Spec: the C++ parser's specs from a file, a dict or JSON text, its errors as ktune.SpecError
with the parser's one-line message, and the space's size."""

import json

import pytest

import ktune
from conftest import ROOT, SGEMM, SIZES


def test_from_file_reads_the_spec(sgemm):
    assert sgemm.name == "sgemm_tiled"
    assert sgemm.entry == "sgemm"
    assert sgemm.sizes == ["M", "N", "K"]
    assert list(sgemm.params) == ["BM", "BN", "BK", "TM", "TN"]  # the spec's order
    assert sgemm.params["BK"] == [8, 16, 32]
    assert sgemm.default_config == {"BM": 64, "BN": 64, "BK": 8, "TM": 4, "TN": 4}
    assert "__global__" in sgemm.source  # the "source" file next to the spec was read


def test_from_dict_and_from_json_give_the_same_spec(sgemm):
    data = json.loads(SGEMM.read_text())
    from_dict = ktune.Spec.from_dict(data, base_dir=SGEMM.parent)
    from_json = ktune.Spec.from_json(SGEMM.read_text(), base_dir=str(SGEMM.parent))
    for spec in (from_dict, from_json):
        assert spec.name == sgemm.name
        assert spec.params == sgemm.params
        assert spec.default_config == sgemm.default_config
        assert spec.source == sgemm.source


def test_space_size_applies_the_constraints(sgemm):
    assert sgemm.product == 3**5
    assert sgemm.space_size() == 228  # 15 of 243 break a constraint
    assert sgemm.space_size(SIZES) == 228


def test_why_invalid_names_the_broken_constraint(sgemm):
    assert sgemm.why_invalid(sgemm.default_config, SIZES) is None
    why = sgemm.why_invalid({**sgemm.default_config, "BM": 128, "BN": 128, "TM": 2, "TN": 2}, SIZES)
    assert "(BM / TM) * (BN / TN) <= 1024" in why
    assert "BM=48" in sgemm.why_invalid({**sgemm.default_config, "BM": 48}, SIZES)


def spec_dict(**changes):
    data = json.loads(SGEMM.read_text())
    data.update(changes)
    return data


def test_a_missing_field_is_a_spec_error_with_the_parsers_message():
    with pytest.raises(ktune.SpecError) as raised:
        ktune.Spec.from_dict({"name": "x"})
    assert str(raised.value) == "spec: ktune_spec: missing required field"
    assert raised.value.code == "invalid_spec"
    assert isinstance(raised.value, ktune.KtuneError)
    assert isinstance(raised.value, ValueError)


def test_a_bad_constraint_names_the_expression():
    with pytest.raises(ktune.SpecError, match="BM %% TM") as raised:
        ktune.Spec.from_dict(spec_dict(constraints=["BM %% TM == 0"]), base_dir=SGEMM.parent)
    assert "\n" not in str(raised.value)  # one line


def test_a_default_outside_the_space_is_refused():
    data = spec_dict(default={"BM": 48, "BN": 64, "BK": 8, "TM": 4, "TN": 4})
    with pytest.raises(ktune.SpecError) as raised:
        ktune.Spec.from_dict(data, base_dir=SGEMM.parent)
    assert str(raised.value) == "spec: default.BM: 48 is not one of the values listed in params.BM"


def test_a_missing_file_is_a_file_error(tmp_path):
    with pytest.raises(ktune.KtuneError) as raised:
        ktune.Spec.from_file(tmp_path / "absent.json")
    assert "absent.json" in str(raised.value)
    assert raised.value.code in ("io", "not_found")


def test_invalid_json_text_is_a_spec_error():
    with pytest.raises(ktune.SpecError):
        ktune.Spec.from_json("{ not json")


def test_sizes_must_be_a_dict_of_ints(sgemm):
    with pytest.raises(TypeError, match="sizes must be a dict"):
        sgemm.space_size([2048, 2048, 2048])
    with pytest.raises(TypeError, match="value of 'M' must be an int, not str"):
        sgemm.space_size({"M": "2048", "N": 1, "K": 1})
    with pytest.raises(ktune.InvalidArgumentError, match="K"):
        sgemm.space_size({"M": 2048, "N": 2048})


def test_every_example_spec_loads():
    for path in sorted((ROOT / "examples").glob("*.json")):
        spec = ktune.Spec.from_file(path)
        assert spec.space_size() > 0, path.name
