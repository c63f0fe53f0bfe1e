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
file and what is wrong.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

from tinygrad_edu.shapes import flatten, nest
from tinygrad_edu.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "FORMAT", "VERSION"]

FORMAT = "tinygrad_edu.checkpoint"
VERSION = 1
_DTYPES = ("float64", "int64", "bool")


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


def _encode(obj, where: str):
    if isinstance(obj, Tensor):
        dtype = _dtype_name(obj)
        data, _ = flatten(obj.detach().tolist())
        cast = {"float64": float, "int64": int, "bool": bool}[dtype]
        return {"__tensor__": {"dtype": dtype, "shape": list(obj.shape), "data": [cast(v) for v in data]}}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"save: dict keys must be strings, got {k!r} at {where or 'top level'}")
            out[k] = _encode(v, f"{where}.{k}" if where else k)
        if set(out) == {"__tensor__"}:
            raise TypeError(f"save: a dict whose only key is '__tensor__' (at {where or 'top level'}) "
                            "would read back as a tensor")
        return out
    if isinstance(obj, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
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
    path = Path(path)
    content = _encode(obj, "")
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
    if dtype not in _DTYPES:
        raise CheckpointError(f"{path}: tensor {where} has unknown dtype {dtype!r}")
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise CheckpointError(f"{path}: tensor {where} has a bad shape {shape!r}")
    if not isinstance(data, list) or len(data) != math.prod(shape):
        got = len(data) if isinstance(data, list) else type(data).__name__
        raise CheckpointError(f"{path}: tensor {where}: shape {tuple(shape)} needs {math.prod(shape)} values, "
                              f"the file has {got}")
    cast = {"float64": float, "int64": int, "bool": bool}[dtype]
    try:
        values = [cast(v) for v in data]
    except (TypeError, ValueError):
        raise CheckpointError(f"{path}: tensor {where} holds non-numeric values") from None
    return Tensor(nest(values, tuple(shape)), dtype=dtype)


def load(path):
    """Read a checkpoint written by `save`; Tensors come back with the exact same values."""
    path = Path(path)
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
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a tinygrad_edu checkpoint (no \"format\": \"{FORMAT}\" header)")
    version = document.get("version")
    if version != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is not supported "
                              f"(this tinygrad_edu reads version {VERSION})")
    if "content" not in document or "sha256" not in document:
        raise CheckpointError(f"{path}: corrupt checkpoint: missing \"content\" or \"sha256\"")
    content = document["content"]
    digest = hashlib.sha256(_canonical(content)).hexdigest()
    if digest != document["sha256"]:
        raise CheckpointError(f"{path}: corrupt checkpoint: checksum mismatch "
                              f"(stored {str(document['sha256'])[:12]}..., computed {digest[:12]}...)")
    return _decode(content, path, "")
