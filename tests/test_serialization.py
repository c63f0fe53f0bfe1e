"""save/load: exact round trips, atomic writes, and clear errors for bad files."""
import importlib.util
import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.serialization import CheckpointError, load, save

HAS_NUMPY = importlib.util.find_spec("numpy") is not None
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


# ---- size-0 tensors ------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=4).filter(lambda s: 0 in s),
       dtype=st.sampled_from(["float64", "int64", "bool"]))
def test_empty_tensors_keep_their_shape_and_dtype(tmp_path_factory, shape, dtype):
    """zeros(0, 5) used to come back as (0,), and zeros(3, 0) could not be saved."""
    path = tmp_path_factory.mktemp("ck") / "empty.json"
    for name in ("python", "numpy") if HAS_NUMPY else ("python",):
        with tg.use_backend(name):
            save({"t": tg.zeros(*shape, dtype=dtype)}, path)
            back = load(path)["t"]
            assert back.shape == tuple(shape) and back.dtype == dtype and back.numel() == 0
            assert back.backend == name


def test_views_are_saved_in_row_major_order(tmp_path, backend):
    t = tg.arange(12).reshape(3, 4).T              # not contiguous
    save({"t": t}, tmp_path / "v.json")
    assert load(tmp_path / "v.json")["t"].tolist() == t.tolist()


def test_a_checkpoint_gets_the_usual_file_mode(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = save({"w": tg.tensor([1.0])}, tmp_path / "c.json")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---- hostile files: refused at once, naming the file ---------------------------------------------------------
def _hostile(tmp_path, content=None, raw=None, name="hostile.json"):
    """A file with a correct checksum (so every other check must hold on its own), or ``raw`` text."""
    import hashlib
    path = tmp_path / name
    if raw is None:
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()
        raw = json.dumps({"format": "tinygrad_edu.checkpoint", "version": 1,
                          "sha256": hashlib.sha256(canonical).hexdigest(), "content": content})
    path.write_text(raw)
    return path


def _tensor(dtype, shape, data):
    return {"w": {"__tensor__": {"dtype": dtype, "shape": shape, "data": data}}}


def _nested(levels, inside=None):
    """A dict holding lists in lists: ``levels`` levels of nesting in all (``inside`` in the innermost)."""
    inner = [] if inside is None else [inside]
    for _ in range(levels - 2):
        inner = [inner]
    return {"deep": inner}


HEADER = '{"format": "tinygrad_edu.checkpoint", "version": 1, "sha256": "0", "content": '


@pytest.mark.parametrize("content, raw, message", [
    (_tensor("float64", [1_000_000_000, 0], []), None,
     "tensor w claims the empty shape (1000000000, 0): sizes that large beside a 0"),
    (_tensor("float64", [0, 2 ** 62, 2 ** 62], []), None, "tensor w claims the empty shape"),
    (_tensor("float64", [1] * 100_000, [1.0]), None, "tensor w claims 100000 dimensions; at most 64"),
    (None, HEADER + "[" * 100_000 + "]" * 100_000 + "}", "nested far too deeply"),
    (_nested(900), None, "nested more than 100 levels deep"),
    (_tensor("int64", [1], [10 ** 30]), None, "value 0 is 100000000000...(31 digits): it does not fit an int64"),
    (_tensor("int64", [2], [0, -2 ** 63 - 1]), None, "value 1 is -9223372036854775809: it does not fit an int64"),
    (_tensor("float64", [1], [10 ** 400]), None, "value 0 is 100000000000...(401 digits): it does not fit a float64"),
    (_tensor("int64", [1], [1.5]), None, "value 0 is 1.5: an int64 tensor holds only whole numbers"),
    (_tensor("bool", [1], ["yes"]), None, 'value 0 is "yes": a bool tensor holds only true and false'),
    (_tensor("float64", [1], [True]), None, "value 0 is True: a float64 tensor holds only numbers"),
    (_tensor("float64", [1], [[1.0]]), None, "value 0 is [1.0]: a float64 tensor holds only numbers"),
    (_tensor("float64", [True, 1], [1.0]), None, "has a bad shape [true, 1]"),
    (_tensor(["float64"], [1], [1.0]), None, 'has unknown dtype ["float64"]'),
    (None, HEADER + '{"a": ' + "9" * 5000 + "}}", "not a readable checkpoint"),
])
def test_hostile_files_are_refused_at_once_naming_the_file(tmp_path, content, raw, message):
    import tracemalloc
    path = _hostile(tmp_path, content, raw)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as info:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value) and message in str(info.value), str(info.value)
    assert peak < 50 * 2 ** 20 + 40 * path.stat().st_size     # nothing allocated beyond reading the file


def test_what_save_writes_is_within_the_limits(tmp_path):
    deep = []
    for _ in range(150):
        deep = [deep]
    with pytest.raises(TypeError, match="nested more than 100 levels deep"):
        save({"deep": deep}, tmp_path / "d.json")
    assert not (tmp_path / "d.json").exists()
    fine = _nested(100)                    # the dict and 99 lists inside it
    assert load(save(fine, tmp_path / "fine.json")) == fine
    with pytest.raises(TypeError, match="nested more than 100 levels deep"):
        save(_nested(101), tmp_path / "d.json")
    with pytest.raises(TypeError, match="nested more than 100 levels deep"):
        save(_nested(98, inside=tg.tensor([1.0])), tmp_path / "d.json")   # a tensor's encoding adds 3
    innermost = load(save(_nested(97, inside=tg.tensor([1.0])), tmp_path / "t.json"))["deep"]
    while isinstance(innermost, list):
        innermost = innermost[0]
    assert innermost.tolist() == [1.0]


def test_paths_must_be_file_names():
    with pytest.raises(TypeError, match="load: path must be a file name .* got NoneType"):
        load(None)
    with pytest.raises(TypeError, match="save: path must be a file name .* got int"):
        save({}, 5)
