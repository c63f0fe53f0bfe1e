"""A whole trace as JSON, for teachers' own tools, and read back for the renderers.

    trace.save_json(tape, "trace.json")       # or: tinygrad-edu trace ... --save trace.json
    tape = trace.load_json("trace.json")      # a Tape: trace.show(tape), tape.graph_svg(), the summary ...

What is drawn from a loaded tape is what was drawn from the recorded one: every name, shape, value,
gradient, formula and projection is in the file, and numbers keep every digit (JSON's numbers are
written as Python's ``repr`` of the float, which reads back to the same float).

The schema, version 1
---------------------
The file is one JSON object::

    {
      "format":     "tinygrad-edu trace",
      "version":    1,
      "directions": null | {"names": [str, ...], "vectors": [[number, ...], ...]},
      "roots":      [key, ...],           the tensors backward started from (by key, see below)
      "snapshots":  [Snapshot, ...],      every value and gradient the events hold, each once
      "events":     [Event, ...],         in the order they happened
      "graph":      {"tensors": [...], "ops": [...]}    the computation graph as drawn (see below)
    }

A **Snapshot** is one tensor, or one gradient, at one moment::

    {"key": int,            the same key in two snapshots is the same tensor object
     "name": str,           the tensor's name: from the module tree, its own .named(...), else t1, t2 ...
     "shape": [int, ...],
     "dtype": "float64" | "int64" | "bool",
     "values": [...],       flat, row-major; numbers (or true/false), with "nan", "inf", "-inf" as strings
     "requires_grad": bool, "is_leaf": bool,
     "is_grad": bool,       true: these are the values of ∂L/∂(that tensor)
     "projections": null | [{direction: number, ...}, ...]}   one per vector (per row of a matrix)

An **Event** has ``step`` (1, 2, ...), ``total``, ``phase`` (``"forward"``, ``"backward"`` or
``"update"``), ``op``, ``formula`` (as the op states it, with ``{symbol}`` fields) and ``text`` (the
formula with this step's names, as the trace shows it). Snapshots are referred to by their index in
``"snapshots"``:

* forward:  ``inputs`` [index, ...], ``output`` index, ``input_symbols`` [str, ...], ``output_symbol``
  (str or null), ``options`` {name: text} (every option's value), ``unstated`` {name: text} (the ones the
  formula does not show), ``about`` (the docstring's first line, for an op without a formula);
* backward: ``inputs``, ``output`` (the forward values), ``grad_output`` index (∂L/∂output),
  ``input_grads`` [index or null, ...] (∂L/∂input, null where none was sent), ``input_symbols``,
  ``output_symbol``, ``options``; ``formula`` is the op's derivative;
* update:   ``before``, ``grad``, ``after`` indices (the parameter before, ∂L/∂parameter, after);
  ``formula`` is the optimizer's rule.

The **graph** section is written for convenience (`load_json` recomputes it from the events): each
tensor as ``{"key", "name", "shape", "role", "made_by", "grad"}`` (role: ``parameter``, ``leaf``,
``loss``, ``output`` or ``intermediate``; made_by: the step of the op that made it, or null; grad: the
flat values of ∂L/∂tensor or null), each op as ``{"step", "op", "formula", "inputs", "output"}`` (input
and output by key).

A later version adds fields without changing these; a reader checks ``version`` and ignores what it
does not know.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent
from .recorder import Tape

__all__ = ["FORMAT", "VERSION", "to_json", "from_json", "dumps", "save_json", "load_json", "TraceFileError"]

FORMAT = "tinygrad-edu trace"
VERSION = 1


class TraceFileError(ValueError):
    """A file that is not a trace this version can read, with what is wrong and where."""


# ---- writing ------------------------------------------------------------------------------------------

def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _snapshot_json(snap: Snapshot) -> dict:
    return {"key": snap.key, "name": snap.name, "shape": list(snap.shape), "dtype": snap.dtype,
            "values": [_number(v) for v in snap.values], "requires_grad": snap.requires_grad,
            "is_leaf": snap.is_leaf, "is_grad": snap.is_grad,
            "projections": None if snap.projections is None else [dict(p) for p in snap.projections]}


def to_json(tape) -> dict:
    """The tape as a JSON-ready dict (see the schema above)."""
    snapshots: list[dict] = []
    index: dict[int, int] = {}          # id(snapshot) -> its index: a snapshot shared by events is written once

    def ref(snap: Snapshot | None) -> int | None:
        if snap is None:
            return None
        if id(snap) not in index:
            index[id(snap)] = len(snapshots)
            snapshots.append(_snapshot_json(snap))
        return index[id(snap)]

    events = []
    for event in tape:
        item: dict[str, Any] = {"step": event.step, "total": event.total, "phase": event.phase, "op": event.op,
                                "formula": event.formula, "text": _text(event)}
        if isinstance(event, (ForwardEvent, BackwardEvent)):
            item.update(inputs=[ref(s) for s in event.inputs], output=ref(event.output),
                        input_symbols=list(event.input_symbols), output_symbol=event.output_symbol,
                        options=dict(event.options))
        if isinstance(event, ForwardEvent):
            item.update(unstated=dict(event.unstated), about=event.about)
        elif isinstance(event, BackwardEvent):
            item.update(grad_output=ref(event.grad_output), input_grads=[ref(g) for g in event.input_grads])
        elif isinstance(event, UpdateEvent):
            item.update(before=ref(event.before), grad=ref(event.grad), after=ref(event.after))
        events.append(item)
    rows = _direction_rows(tape)
    return {"format": FORMAT, "version": VERSION,
            "directions": None if rows is None else {"names": [n for n, _ in rows], "vectors": [v for _, v in rows]},
            "roots": list(getattr(tape, "roots", [])),
            "snapshots": snapshots, "events": events, "graph": _graph_json(tape)}


def _text(event: Event) -> str:
    if isinstance(event, UpdateEvent):
        return f"{event.name}: {event.rule}"
    return event.bound_formula() or event.plain_formula()


def _direction_rows(tape) -> list[tuple[str, list[float]]] | None:
    directions = getattr(tape, "directions", None)
    if directions is None:
        return None
    items = directions.items() if hasattr(directions, "items") else ((n, directions[n]) for n in directions.names)
    rows = []
    for name, vector in items:
        values = vector.tolist() if hasattr(vector, "tolist") else list(vector)
        rows.append((str(name), [float(v) for v in values]))
    return rows


def _graph_json(tape) -> dict:
    from .picture import ComputationGraph

    graph = ComputationGraph.from_tape(tape)
    return {"tensors": [{"key": b.key, "name": b.name, "shape": list(b.shape), "role": b.role, "made_by": b.made_by,
                         "grad": None if b.grad is None else [_number(v) for v in b.grad]}
                        for b in graph.tensors.values()],
            "ops": [{"step": op.step, "op": op.op, "formula": op.formula, "inputs": list(op.inputs),
                     "output": op.output} for op in graph.ops]}


def dumps(tape, indent: int | None = None) -> str:
    """The tape as JSON text (strict JSON: no NaN or Infinity literals)."""
    return json.dumps(to_json(tape), indent=indent, ensure_ascii=False, allow_nan=False)


def save_json(tape, path) -> Path:
    """Write the tape to ``path`` as JSON; returns the path."""
    path = Path(path)
    path.write_text(dumps(tape) + "\n", encoding="utf-8")
    return path


# ---- reading ------------------------------------------------------------------------------------------

def _value(value: Any, dtype: str) -> Any:
    if isinstance(value, str):
        if value in ("nan", "inf", "-inf"):
            return float(value)
        raise TraceFileError(f"a value {value!r} is not a number")
    if dtype == "float64" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _snapshot(item: dict) -> Snapshot:
    dtype = item.get("dtype", "float64")
    projections = item.get("projections")
    return Snapshot(key=int(item["key"]), name=str(item["name"]), shape=tuple(int(s) for s in item["shape"]),
                    values=tuple(_value(v, dtype) for v in item["values"]), dtype=dtype,
                    requires_grad=bool(item.get("requires_grad", False)), is_leaf=bool(item.get("is_leaf", True)),
                    is_grad=bool(item.get("is_grad", False)),
                    projections=None if projections is None else tuple(
                        {str(k): float(v) for k, v in p.items()} for p in projections))


def from_json(data: dict) -> Tape:
    """A `Tape` holding the events of ``data`` (a dict as `to_json` makes it)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceFileError(f"not a tinygrad-edu trace (its \"format\" is not {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise TraceFileError(f"the trace's \"version\" must be a whole number from 1, got {version!r}")
    if version > VERSION:
        raise TraceFileError(f"the trace is version {version}; this tinygrad-edu reads up to version {VERSION} "
                             f"(upgrade tinygrad-edu to read it)")
    try:
        snapshots = [_snapshot(item) for item in data["snapshots"]]
        tape = Tape()
        directions = data.get("directions")
        if directions:
            # The vocabulary, for what is recorded next; the snapshots keep the projections the file holds.
            tape.attach(dict(zip(directions["names"], directions["vectors"])))

        def snap(index):
            if index is None:
                return None
            if not isinstance(index, int) or not 0 <= index < len(snapshots):
                raise TraceFileError(f"a snapshot index {index!r} is outside 0..{len(snapshots) - 1}")
            return snapshots[index]

        for number, item in enumerate(data["events"], start=1):
            tape.events.append(_event(item, snap, number))
        tape.roots = [int(key) for key in data.get("roots", [])]
    except TraceFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise TraceFileError(f"the trace is not laid out as version {VERSION} says: {type(error).__name__}: {error}") \
            from None
    return tape


def _event(item: dict, snap, number: int) -> Event:
    phase = item.get("phase")
    common = {"step": int(item["step"]), "op": str(item["op"]), "formula": str(item["formula"]),
              "total": int(item.get("total", 0))}
    if phase in ("forward", "backward"):
        common.update(inputs=tuple(snap(i) for i in item["inputs"]), output=snap(item["output"]),
                      input_symbols=tuple(item.get("input_symbols", ())), output_symbol=item.get("output_symbol"),
                      options=dict(item.get("options", {})))
    if phase == "forward":
        return ForwardEvent(**common, unstated=dict(item.get("unstated", {})), about=str(item.get("about", "")))
    if phase == "backward":
        return BackwardEvent(**common, grad_output=snap(item.get("grad_output")),
                             input_grads=tuple(snap(i) for i in item.get("input_grads", ())))
    if phase == "update":
        return UpdateEvent(**common, before=snap(item.get("before")), grad=snap(item.get("grad")),
                           after=snap(item.get("after")))
    raise TraceFileError(f"event {number} has the phase {phase!r}; expected forward, backward or update")


def load_json(source) -> Tape:
    """Read a trace written by `save_json` (a path, or an open text file) back into a `Tape`."""
    if hasattr(source, "read"):
        text, where = source.read(), getattr(source, "name", "the file")
    else:
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"trace.load_json: no file {where!r}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TraceFileError(f"trace.load_json: {where} is not JSON ({error})") from None
    try:
        return from_json(data)
    except TraceFileError as error:
        raise TraceFileError(f"trace.load_json: {where}: {error}") from None
