"""save/load: exact round trips, atomic writes, and clear errors for bad files."""
import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.serialization import CheckpointError, load, save

any_float = st.floats(allow_nan=False, allow_infinity=True, width=64)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(any_float, min_size=1, max_size=12), rows=st.integers(1, 3))
def test_floats_round_trip_bit_for_bit(tmp_path_factory, values, rows):
    values = values * rows
    t = tg.tensor(values).reshape(rows, len(values) // rows)
    path = tmp_path_factory.mktemp("ck") / "t.json"
    save({"t": t}, path)
    back = load(path)["t"]
    assert back.shape == t.shape and back.dtype == t.dtype
    for a, b in zip(sum(back.tolist(), []), sum(t.tolist(), [])):
        assert a == b and math.copysign(1, a) == math.copysign(1, b)


def test_state_dict_round_trip_gives_the_same_model(tmp_path, backend):
    model = nn.TransformerBlock(4, n_heads=2, d_hidden=8, seed=3)
    path = save({"model": model.state_dict(), "step": 7, "note": "hi", "ids": tg.tensor([1, 2]),
                 "mask": tg.tensor([True, False]), "nothing": None}, tmp_path / "m.ckpt")
    data = load(path)
    assert (data["step"], data["note"], data["nothing"]) == (7, "hi", None)
    assert data["ids"].dtype == "int64" and data["ids"].tolist() == [1, 2]
    assert data["mask"].tolist() == [True, False]
    fresh = nn.TransformerBlock(4, n_heads=2, d_hidden=8, seed=99)
    fresh.load_state_dict(data["model"])
    x = tg.randn(3, 4, seed=0)
    assert fresh(x).tolist() == model(x).tolist()
    assert list(data["model"]) == list(model.state_dict())


def test_file_is_documented_json_and_no_temporary_file_is_left(tmp_path):
    save({"w": tg.tensor([[1.0, 2.0]])}, tmp_path / "c.json")
    assert os.listdir(tmp_path) == ["c.json"]
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["format"] == "tinygrad_edu.checkpoint" and doc["version"] == 1
    assert doc["content"]["w"] == {"__tensor__": {"dtype": "float64", "shape": [1, 2], "data": [1.0, 2.0]}}


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "c.json"
    save({"w": tg.tensor([1.0])}, path)
    old = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store object"):
        save({"w": object()}, path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["c.json"]


@pytest.fixture
def good_file(tmp_path):
    return save(nn.MLPBlock(3, 4, seed=0).state_dict(), tmp_path / "good.json")


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.3, 0.5, 0.9, 0.999])
def test_truncated_checkpoints_raise(good_file, fraction):
    raw = good_file.read_bytes()
    good_file.write_bytes(raw[:int(len(raw) * fraction)])
    with pytest.raises(CheckpointError, match=r"good\.json: (empty file|truncated or corrupt)"):
        load(good_file)


def test_a_changed_digit_is_caught_by_the_checksum(good_file):
    doc = json.loads(good_file.read_text())
    doc["content"]["up.bias"]["__tensor__"]["data"][0] += 1e-9
    good_file.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load(good_file)


def test_shape_and_data_must_agree(tmp_path):
    import hashlib
    content = {"w": {"__tensor__": {"dtype": "float64", "shape": [2, 2], "data": [1.0, 2.0, 3.0]}}}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "tinygrad_edu.checkpoint", "version": 1, "sha256": digest,
                                "content": content}))
    with pytest.raises(CheckpointError, match=r"tensor w: shape \(2, 2\) needs 4 values, the file has 3"):
        load(path)


@pytest.mark.parametrize("raw, message", [
    (b'{"hello": 1}', "not a tinygrad_edu checkpoint"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
    (b"just some text", "not a tinygrad_edu checkpoint"),
    (b'{"format": "tinygrad_edu.checkpoint", "version": 9, "sha256": "", "content": {}}', "version 9"),
])
def test_foreign_files_raise_naming_the_file(tmp_path, raw, message):
    path = tmp_path / "foreign.bin"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=message) as info:
        load(path)
    assert "foreign.bin" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load(tmp_path / "nope.json")


def test_top_level_exports():
    assert tg.save is save and tg.load is load
