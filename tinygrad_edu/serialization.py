"""Checkpoints: ``save(obj, path)`` and ``load(path)``.

``obj`` is usually a state dict (``{"block.up.weight": Tensor, ...}``), but any nesting of dicts
(with string keys), lists, Tensors, numbers, strings, booleans and None works, so training metadata
can travel with the weights.

The file format (version 1) is a single UTF-8 JSON document, readable in any editor:

    {
      "format": "tinygrad_edu.checkpoint",     # the magic: anything else is not ours
      "version": 1,
      "sha256": "<hex SHA-256 of the content's canonical JSON>",
      "content": <the object, encoded as below>
    }

Encoding of ``content``:

* a Tensor becomes ``{"__tensor__": {"dtype": "float64", "shape": [2, 3], "data": [1.0, 2.0, ...]}}``
  with ``data`` flat, in row-major order;
* dicts (string keys, order kept), lists, numbers, strings, booleans and None are themselves.

The canonical JSON, which the checksum covers, is
``json.dumps(content, sort_keys=True, separators=(",", ":"))`` encoded as UTF-8.

Floats are written with Python's ``repr``, which round-trips exactly: loading gives back the very same
float64 values. NaN and ±infinity are written as ``NaN``, ``Infinity`` and ``-Infinity``, as
Python's ``json`` module does.

Safety: ``save`` writes to a temporary file in the same folder and renames it over the target only
when the write is complete (``os.replace`` is atomic), so a crash never leaves half a checkpoint.
``load`` checks the magic, the version, the checksum and every tensor's shape against its data
length; a truncated, corrupt or foreign file raises `CheckpointError` (a ``ValueError``) naming the
file and what is wrong. A hostile file is refused the same way, at once and before anything is
allocated: nesting deeper than 100 levels, a tensor of more than 64 dimensions, an empty tensor that
claims huge sizes beside its 0 (such as [1000000000, 0]), a number that does not fit its dtype
(an int64 beyond ±2⁶³, a float beyond ±1.8e308), or a value of the wrong kind (1.5 in an int64
tensor, "yes" in a bool one). `save` never writes such a file.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

from tinygrad_edu.backend import get_backend
from tinygrad_edu.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "FORMAT", "VERSION"]

FORMAT = "tinygrad_edu.checkpoint"
VERSION = 1
_DTYPES = ("float64", "int64", "bool")
MAX_DEPTH = 100                 # levels of dicts and lists in a checkpoint's content
MAX_DIMS = 64                   # a tensor's dimensions (NumPy's own limit)
MAX_EMPTY_SIDES = 2 ** 24       # an empty tensor's non-zero sizes may multiply to at most this
_INT64 = (-2 ** 63, 2 ** 63 - 1)


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_edu checkpoint (truncated, corrupt, foreign or newer)."""


# ------------------------------------------------------------------------------------- encode
def _dtype_name(t: Tensor) -> str:
    dtype = t.dtype
    name = getattr(dtype, "name", None) or str(dtype)
    name = name.replace("tinygrad_edu.", "")
    if name == "bool_":
        name = "bool"
    if name not in _DTYPES:
        raise TypeError(f"save: unsupported dtype {dtype!r}")
    return name


def _encode(obj, where: str, depth: int = 0):
    if depth > MAX_DEPTH:
        raise TypeError(f"save: {where} is nested more than {MAX_DEPTH} levels deep; checkpoints allow {MAX_DEPTH}")
    if isinstance(obj, Tensor):
        dtype = _dtype_name(obj)
        cast = {"float64": float, "int64": int, "bool": bool}[dtype]
        data = [cast(v) for v in obj.detach().data.flat()]     # row-major, whatever the shape (size 0 too)
        if dtype == "int64" and any(not _INT64[0] <= v <= _INT64[1] for v in data):
            bad = next(v for v in data if not _INT64[0] <= v <= _INT64[1])
            raise ValueError(f"save: tensor {where or '(top level)'} holds {_short_number(bad)}, which does not "
                             "fit an int64")
        return {"__tensor__": {"dtype": dtype, "shape": list(obj.shape), "data": data}}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"save: dict keys must be strings, got {k!r} at {where or 'top level'}")
            out[k] = _encode(v, f"{where}.{k}" if where else k, depth + 1)
        if set(out) == {"__tensor__"}:
            raise TypeError(f"save: a dict whose only key is '__tensor__' (at {where or 'top level'}) "
                            "would read back as a tensor")
        return out
    if isinstance(obj, (list, tuple)):
        return [_encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: cannot store {type(obj).__name__} at {where or 'top level'}; "
                    "use Tensors, dicts, lists, numbers, strings, booleans or None")


def _canonical(content) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=True).encode("utf-8")


def _pretty(obj, indent: str) -> str:
    """Indented JSON in which each tensor stays on one line, so a checkpoint reads as a list of tensors."""
    inner = indent + "  "
    if isinstance(obj, dict) and "__tensor__" not in obj and obj:
        items = [f"{inner}{json.dumps(k)}: {_pretty(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + _pretty(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj, allow_nan=True)


def save(obj, path) -> Path:
    """Write ``obj`` (a state dict or any nesting of the types above) to ``path`` atomically."""
    path = _path("save", path)
    content = _encode(obj, "")
    if _depth(content) > MAX_DEPTH:      # as load counts it: a tensor adds the levels of its own encoding
        raise TypeError(f"save: the object is nested more than {MAX_DEPTH} levels deep (counting each tensor's "
                        f"encoding as three); checkpoints allow {MAX_DEPTH}")
    document = {"format": FORMAT, "version": VERSION,
                "sha256": hashlib.sha256(_canonical(content)).hexdigest(), "content": content}
    text = _pretty(document, "") + "\n"
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)          # the temporary file is private (0600); the checkpoint gets the usual mode
        os.umask(umask)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


# ------------------------------------------------------------------------------------- decode
def _decode(obj, path: Path, where: str):
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            return _decode_tensor(obj["__tensor__"], path, where)
        return {key: _decode(value, path, f"{where}.{key}" if where else key) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, path, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


def _decode_tensor(spec, path: Path, where: str) -> Tensor:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise CheckpointError(f"{path}: corrupt checkpoint: tensor {where} lacks dtype/shape/data")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise CheckpointError(f"{path}: tensor {where} has unknown dtype {_short_value(dtype)}")
    if not (isinstance(shape, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                            for s in shape)):
        raise CheckpointError(f"{path}: tensor {where} has a bad shape {_short_value(shape)} "
                              "(expected a list of whole numbers >= 0)")
    if len(shape) > MAX_DIMS:
        raise CheckpointError(f"{path}: tensor {where} claims {len(shape)} dimensions; at most {MAX_DIMS} are allowed")
    count = math.prod(shape)
    if count == 0 and math.prod(s for s in shape if s) > MAX_EMPTY_SIDES:
        raise CheckpointError(f"{path}: tensor {where} claims the empty shape {tuple(shape)}: sizes that large beside "
                              f"a 0 (more than {MAX_EMPTY_SIDES:,} together) are not something save writes")
    if not isinstance(data, list) or len(data) != count:
        got = len(data) if isinstance(data, list) else type(data).__name__
        raise CheckpointError(f"{path}: tensor {where}: shape {tuple(shape)} needs {count} values, "
                              f"the file has {got}")
    for i, value in enumerate(data):
        problem = _value_problem(dtype, value)
        if problem:
            raise CheckpointError(f"{path}: tensor {where}: value {i} is {_short_value(value)}: {problem}")
    values = [float(v) for v in data] if dtype == "float64" else data
    return Tensor(get_backend().from_flat(values, tuple(shape), dtype))


def _value_problem(dtype: str, value) -> str | None:
    """Why ``value`` cannot be an element of a ``dtype`` tensor (None when it can)."""
    if dtype == "bool":
        return None if isinstance(value, bool) else "a bool tensor holds only true and false"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"a {dtype} tensor holds only numbers"
    if dtype == "int64":
        if not isinstance(value, int):
            return "an int64 tensor holds only whole numbers"
        return None if _INT64[0] <= value <= _INT64[1] else "it does not fit an int64 (-2**63 to 2**63 - 1)"
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return "it does not fit a float64 (at most about 1.8e308 in size)"
    return None


def _short_number(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} digits)"


def _short_value(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _short_number(value)
    text = json.dumps(value, allow_nan=True) if isinstance(value, (str, list, dict, float)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _depth(content) -> int:
    """How deeply dicts and lists nest in ``content`` (0 for a plain value), without recursion."""
    deepest, stack = 0, [(content, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _path(where: str, path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a file name (a str or a Path), got {type(path).__name__}")
    return Path(path)


def load(path):
    """Read a checkpoint written by `save`; Tensors come back with the exact same values (on the
    current backend)."""
    path = _path("load", path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such checkpoint file: {path}") from None
    if not raw.strip():
        raise CheckpointError(f"{path}: empty file, not a tinygrad_edu checkpoint")
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not a tinygrad_edu checkpoint (binary data, expected JSON text)") from None
    except json.JSONDecodeError as e:
        looks_ours = raw.lstrip().startswith(b"{") and FORMAT.encode() in raw[:200]
        what = "truncated or corrupt checkpoint" if looks_ours else "not a tinygrad_edu checkpoint"
        raise CheckpointError(f"{path}: {what} (invalid JSON at line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise CheckpointError(f"{path}: not a readable checkpoint: its JSON is nested far too deeply "
                              f"(checkpoints nest at most {MAX_DEPTH} levels)") from None
    except ValueError as e:          # e.g. a number of thousands of digits
        raise CheckpointError(f"{path}: not a readable checkpoint: {e}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a tinygrad_edu checkpoint (no \"format\": \"{FORMAT}\" header)")
    version = document.get("version")
    if version != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is not supported "
                              f"(this tinygrad_edu reads version {VERSION})")
    if "content" not in document or "sha256" not in document:
        raise CheckpointError(f"{path}: corrupt checkpoint: missing \"content\" or \"sha256\"")
    content = document["content"]
    if _depth(content) > MAX_DEPTH:
        raise CheckpointError(f"{path}: its content is nested more than {MAX_DEPTH} levels deep; "
                              f"checkpoints nest at most {MAX_DEPTH}")
    digest = hashlib.sha256(_canonical(content)).hexdigest()
    if digest != document["sha256"]:
        raise CheckpointError(f"{path}: corrupt checkpoint: checksum mismatch "
                              f"(stored {str(document['sha256'])[:12]}..., computed {digest[:12]}...)")
    return _decode(content, path, "")
