"""The recorder: `record()` installs a `Tape` as the engine's trace hook.

    with trace.record(directions=dirs, modules={"block": block}) as tape:
        loss = block(x).sum()
        loss.backward()
        opt.step()
    for event in tape:
        ...

While the block runs, ``Function.apply`` calls ``tape.on_forward`` for every op, the backward
engine calls ``tape.on_backward`` for every op it differentiates, and optimizers call
``tape.on_update`` for every parameter they change. Each call appends one plain-data event
(see `events.py`) holding copies of the values.

Names: a tensor named in the module tree (``block.up.weight``) gets that name; otherwise its own
``.name`` (set with ``.named("x")``); otherwise, with ``names_from=function``, the name of the
variable (or argument) of that function that holds it (``h``; a Module in a variable names its
parameters, ``model.weight``); otherwise a short stable name ``t1``, ``t2``, ... in order of first
appearance. The transpose of a named matrix is called as the code writes it, ``W.T``, and a
number the code wrote (``x * 3``) is called by its value. Names are settled when the block ends, so
``h = (x @ w).named("h")`` names the output of the matmul even though the name came after the op ran.

How variables are read: each time an op runs, the recorder walks up the call stack to the frame of
``function`` (a few frames: the op, the Tensor method, maybe a helper) and reads its local
variables; once more when the block ends (a finished frame keeps its last locals). No tracing hook
(``sys.settrace``) is installed, so the function runs at full speed between ops, and nothing is
read when ``names_from`` is not given. Only that function's own variables count, not its helpers'
(their ``x`` is often someone else's ``h``). A variable that held several tensors over time (``h =
h.relu()``, a loop) numbers them in order: ``h₁``, ``h₂``, ... A result never held in a variable
(``x @ W.T`` inside a longer expression) keeps a t-number.

Each event keeps the op's ``formula`` (or ``derivative``) as the op states it, with the symbols and
option values of this step, so it can show the formula with the tensors' names (see `formula.py`).

A cap: an event holds copies of every tensor it shows, so a training loop recorded whole would hold
every step's values (the MLP block's training: about 50 kB an event, 1.7 MB a step). A tape keeps
the first ``max_events`` events (`DEFAULT_MAX_EVENTS` unless told; None keeps all) and only counts
the rest: nothing is copied or kept alive for them, so memory stays flat however long the run.
`Tape.cap_note` says what was left out.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import sys
import types
from typing import Any, Iterator, Mapping

from .. import autograd
from ..shapes import flatten
from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent
from .formula import TRANSPOSE_SUFFIX, describe, fields, index_fields, op_symbols, output_symbol, statement

__all__ = ["record", "Tape", "DEFAULT_MAX_EVENTS"]

# A few training steps of the course's models, a page each: printed whole in under a minute and held in
# about 25 MB (the MLP block's default run: 500 of its 18,028 events; the whole process peaks at 103 MB).
DEFAULT_MAX_EVENTS = 500


def _about(fn_type: type) -> str:
    """The first line of the docstring of an op that states no formula (a student's first try)."""
    if getattr(fn_type, "formula", "") or fn_type.__doc__ is autograd.Function.__doc__:
        return ""
    return next((line.strip() for line in (fn_type.__doc__ or "").splitlines() if line.strip()), "")


def _option_texts(fn_type: type, n_inputs: int, given: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Every option's text (the ones given, then the defaults of the rest), and the ones to show apart:
    not a field of the formula and not left at forward's default.

    None given for an option whose default is something else means "not given" (``clamp(max=1)``
    passes ``low=None``), so it reads as the default (``−∞``). An option the formula writes between
    brackets is an index and reads as one (``x[0]``, not ``x[(0,)]``).
    """
    declared = op_symbols(fn_type).options(n_inputs)
    values = {name: default for name, default in declared.items() if default is not inspect.Parameter.empty}
    values.update({name: value for name, value in given.items() if value is not None or values.get(name) is None})
    formula = getattr(fn_type, "formula", "") or ""
    indices = index_fields(formula) | index_fields(getattr(fn_type, "derivative", "") or "")
    texts = {name: describe(value, index=name in indices) for name, value in values.items()}
    in_formula = fields(formula)
    unstated = {name: texts[name] for name in given
                if name not in in_formula and not _same(declared.get(name, inspect.Parameter.empty), given[name])}
    return texts, unstated


def _same(default: Any, value: Any) -> bool:
    try:
        return bool(default == value)
    except (TypeError, ValueError):     # an array compared with a default: not the default
        return False


class Tape:
    """The recorded events, in order; also the recorder the engine calls.

    Iterate it, index it (``tape[0]`` is step 1), filter it with `phase`. Attach a vocabulary of
    named directions with `attach` (before or after the events; projections are computed from the
    stored values) and name module parameters with `name_modules` (inside the ``with`` block).
    """

    def __init__(self, directions=None, modules=(), names_from=None, max_events: int | None = DEFAULT_MAX_EVENTS):
        self.max_events = _check_max_events(max_events)
        self.dropped = 0                            # events that happened after the cap: counted only
        self.events: list[Event] = []
        self._names_from = _code_of(names_from)   # the code whose variables name tensors (or None)
        self._frame = None                          # its frame, last seen while an op ran
        self._bindings: dict[str, list[int]] = {}  # variable -> the keys it held, in order
        self._keys: dict[int, int] = {}            # id(tensor) -> key, while recording
        self._alive: dict[int, Any] = {}           # key -> tensor, kept so ids are not reused
        self._module_names: dict[int, str] = {}    # id(parameter) -> name in the module tree
        self._names: dict[int, str] = {}           # key -> settled name
        self._forward_of: dict[int, ForwardEvent] = {}  # id(ctx) -> its forward event
        self._contexts: list[Any] = []             # the ctx objects, so their ids stay unique
        self.roots: list[int] = []                 # keys of the tensors backward started from
        self.directions = None
        self._direction_rows: list[tuple[str, list[float]]] = []
        if modules:
            self.name_modules(modules)
        if directions is not None:
            self.attach(directions)

    # ---- sequence protocol --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __getitem__(self, index):
        return self.events[index]

    def phase(self, *phases: str) -> list[Event]:
        """The events of the given phases (``"forward"``, ``"backward"``, ``"update"``), in order."""
        return [e for e in self.events if e.phase in phases]

    @property
    def forward(self) -> list[ForwardEvent]:
        return self.phase("forward")

    @property
    def backward(self) -> list[BackwardEvent]:
        return self.phase("backward")

    @property
    def updates(self) -> list[UpdateEvent]:
        return self.phase("update")

    def __repr__(self) -> str:
        counts = {p: len(self.phase(p)) for p in ("forward", "backward", "update")}
        more = f"; {self.dropped} more not kept" if self.dropped else ""
        return f"Tape({len(self)} events: " + ", ".join(f"{n} {p}" for p, n in counts.items()) + more + ")"

    # ---- the cap -----------------------------------------------------------------------------------
    @property
    def seen(self) -> int:
        """How many events happened while recording: the ones kept and the ones after the cap."""
        return len(self.events) + self.dropped

    @property
    def complete(self) -> bool:
        """True when every event that happened was kept."""
        return self.dropped == 0

    def cap_note(self) -> str | None:
        """``kept the first 500 events of 18028`` when the cap left events out; None when none were."""
        if self.complete:
            return None
        return f"kept the first {len(self.events)} events of {self.seen}"

    def _full(self) -> bool:
        """True (and the event counted) when the cap is reached: the hooks then copy nothing."""
        if self.max_events is not None and len(self.events) >= self.max_events:
            self.dropped += 1
            return True
        return False

    # ---- naming --------------------------------------------------------------------------------
    def name_modules(self, modules) -> None:
        """Name parameters from the module tree.

        ``modules``: one Module, a sequence of them (names as ``named_parameters()`` gives them,
        ``up.weight``), or a mapping ``{"block": module}`` (names prefixed: ``block.up.weight``).
        """
        if isinstance(modules, Mapping):
            pairs = [(prefix + ".", m) for prefix, m in modules.items()]
        elif hasattr(modules, "named_parameters"):
            pairs = [("", modules)]
        else:
            pairs = [("", m) for m in modules]
        for prefix, module in pairs:
            if not hasattr(module, "named_parameters"):
                raise TypeError(f"trace.record: modules must be Modules (with named_parameters()), "
                                f"got {type(module).__name__}")
            for name, param in module.named_parameters():
                self._module_names[id(param)] = prefix + name
                # Keep the parameter alive so its id cannot be reused by another tensor.
                self._key(param)
        self._settle_names()

    def _key(self, tensor) -> int:
        key = self._keys.get(id(tensor))
        if key is None:
            key = len(self._keys) + 1
            self._keys[id(tensor)] = key
            self._alive[key] = tensor
        return key

    def _name_for(self, key: int, tensor, made_by: ForwardEvent | None, names: dict[int, str], auto: set[int],
                  variables: dict[int, str]) -> str | None:
        """The tensor's own name, its variable's, or one read off how it was made; None asks for a t-number."""
        name = self._module_names.get(id(tensor)) or getattr(tensor, "name", None) or variables.get(key)
        if name:
            return str(name)
        # The transpose of a named matrix is called what the code calls it: W.T.
        if (made_by is not None and made_by.op == "Permute" and made_by.options.get("order") == "(1, 0)"
                and made_by.inputs[0].key in names and made_by.inputs[0].key not in auto):
            return names[made_by.inputs[0].key] + TRANSPOSE_SUFFIX
        # A plain number the code wrote (x * 3) reads best as itself.
        if made_by is None and not getattr(tensor, "requires_grad", False) and tuple(tensor.shape) == ():
            value = tensor.item()
            if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
                return str(int(value))
            return f"{value:g}" if isinstance(value, float) else str(value)
        return None

    def _settle_names(self) -> None:
        """Give every tensor seen so far its name and write it into every snapshot."""
        if self._alive:
            # A parameter registered by name_modules but never used gets no t-number.
            used = {snap.key for event in self.events for snap in event.snapshots()}
            made_by = {e.output.key: e for e in self.events if isinstance(e, ForwardEvent) and e.output}
            names: dict[int, str] = {}
            auto: set[int] = set()       # the keys that got a t-number
            variables = self._variable_names(used)
            for key, tensor in sorted(self._alive.items()):
                if key in used:
                    name = self._name_for(key, tensor, made_by.get(key), names, auto, variables)
                    if name is None:
                        auto.add(key)
                        name = f"t{len(auto)}"
                    names[key] = name
            self._names = names
        for event in self.events:
            for snap in event.snapshots():
                snap.name = self._names.get(snap.key, snap.name)

    # ---- the traced function's variables --------------------------------------------------------
    def _function_frame(self):
        """The frame of the function whose variables name tensors, if it is on the stack (None if not)."""
        frame = sys._getframe(2)
        for _ in range(_FRAMES_TO_SEARCH):
            if frame is None:
                return None
            if frame.f_code is self._names_from:
                return frame
            frame = frame.f_back
        return None

    def _read_variables(self, frame, modules: bool = False) -> None:
        """Note which recorded tensor each variable of ``frame`` holds now (and, with ``modules``, the
        parameters of the Modules it holds: ``model.weight``)."""
        try:
            variables = dict(frame.f_locals)
        except Exception:               # a frame whose locals cannot be read: no names from it
            return
        for variable, value in variables.items():
            if modules:
                if hasattr(value, "named_parameters") and not isinstance(value, type):
                    # Named from the module tree, as `modules=` would (unless the tree was given).
                    try:
                        parameters = list(value.named_parameters())
                    except Exception:       # not a Module after all
                        continue
                    for name, param in parameters:
                        if id(param) in self._keys:
                            self._module_names.setdefault(id(param), f"{variable}.{name}")
                continue
            key = self._keys.get(id(value))   # recorded tensors are kept alive: their ids are unique
            if key is not None:
                seen = self._bindings.setdefault(variable, [])
                if key not in seen:
                    seen.append(key)

    def _look_at_variables(self) -> None:
        frame = self._function_frame()
        if frame is not None:
            self._frame = frame
            self._read_variables(frame)

    def _variable_names(self, used: set[int]) -> dict[int, str]:
        """key -> the variable that held it: ``h``, or ``h₁``, ``h₂``, ... when ``h`` held several
        recorded tensors (the first variable to hold a tensor names it)."""
        found: dict[int, str] = {}
        for variable, keys in self._bindings.items():
            keys = [key for key in keys if key in used and key not in found]
            for number, key in enumerate(keys, start=1):
                found[key] = variable + (_subscript(number) if len(keys) > 1 else "")
        return found

    def name_of(self, tensor) -> str:
        """The name this tape gives ``tensor`` (settled names after the block ends)."""
        key = self._keys.get(id(tensor))
        if key is not None and key in self._names:
            return self._names[key]
        return self._module_names.get(id(tensor)) or getattr(tensor, "name", None) or "?"

    # ---- directions ---------------------------------------------------------------------------
    def attach(self, directions) -> "Tape":
        """Attach a vocabulary of named directions (a `Directions`, or a mapping name -> vector).

        Every snapshot whose last dimension equals the vocabulary's dimension gets its projections
        (dot products, one dict per vector), now and for every later event.
        """
        if isinstance(directions, Mapping):
            items = list(directions.items())
        else:
            items = [(name, directions[name]) for name in directions.names]
        rows = []
        for name, vector in items:
            values = vector.tolist() if hasattr(vector, "tolist") else list(vector)
            rows.append((str(name), [float(v) for v in flatten(values)[0]]))
        sizes = {len(v) for _, v in rows}
        if len(sizes) != 1:
            raise ValueError(f"trace: directions have different lengths {sorted(sizes)}")
        self.directions = directions
        self._direction_rows = rows
        for event in self.events:
            for snap in event.snapshots():
                snap.projections = self._project(snap)
        return self

    def _project(self, snap: Snapshot):
        if not self._direction_rows or not snap.shape or snap.dtype == "bool":
            return None
        dim = len(self._direction_rows[0][1])
        if snap.shape[-1] != dim:
            return None
        values = [float(v) for v in snap.values]
        vectors = [values[i:i + dim] for i in range(0, len(values), dim)]
        return tuple({name: math.fsum(a * b for a, b in zip(vec, row)) for name, row in self._direction_rows}
                     for vec in vectors)

    # ---- snapshots -------------------------------------------------------------------------------
    def _snapshot(self, tensor, values=None, is_grad=False) -> Snapshot:
        """Copy a tensor (or, with ``values``, a backend array belonging to it) into plain data."""
        key = self._key(tensor)
        source = tensor if values is None else values
        data = source.tolist()
        shape = tuple(source.shape)
        dtype = getattr(getattr(tensor, "dtype", None), "name", None) or str(getattr(tensor, "dtype", "float64"))
        if is_grad:
            dtype = "float64"
        snap = Snapshot(key=key, name=self.name_of(tensor), shape=shape, values=tuple(flatten(data)[0]),
                        dtype=dtype, requires_grad=bool(getattr(tensor, "requires_grad", False)),
                        is_leaf=bool(getattr(tensor, "is_leaf", True)), is_grad=is_grad)
        snap.projections = self._project(snap)
        return snap

    # ---- the hooks the engine calls ------------------------------------------------------------
    def on_forward(self, ctx, inputs, output, options) -> None:
        if self._full():
            return
        fn_type = type(ctx)
        formula, _ = statement(fn_type, len(inputs))
        option_texts, unstated = _option_texts(fn_type, len(inputs), options or {})
        event = ForwardEvent(step=len(self.events) + 1, op=fn_type.__name__, formula=formula,
                             inputs=tuple(self._snapshot(t) for t in inputs),
                             output=self._snapshot(output),
                             input_symbols=op_symbols(fn_type).for_inputs(len(inputs)),
                             output_symbol=output_symbol(formula), options=option_texts,
                             unstated=unstated, about=_about(fn_type))
        self._forward_of[id(ctx)] = event
        self._contexts.append(ctx)
        self.events.append(event)
        if self._names_from is not None:
            self._look_at_variables()

    def on_backward(self, ctx, output, grad_output, input_grads) -> None:
        if self._full():
            return
        fn_type = type(ctx)
        forward = self._forward_of.get(id(ctx))
        parents = getattr(ctx, "parents", ())
        formula, derivative = statement(fn_type, len(parents))
        if not self.roots or not any(e.phase == "backward" for e in self.events[-1:]):
            self.roots.append(self._key(output))
        grads = tuple(None if g is None else self._snapshot(parent, values=g, is_grad=True)
                      for parent, g in zip(parents, input_grads))
        event = BackwardEvent(step=len(self.events) + 1, op=fn_type.__name__, formula=derivative,
                              inputs=forward.inputs if forward else tuple(self._snapshot(p) for p in parents),
                              output=forward.output if forward else self._snapshot(output),
                              grad_output=self._snapshot(output, values=grad_output, is_grad=True),
                              input_grads=grads,
                              input_symbols=op_symbols(fn_type).for_inputs(len(parents)),
                              output_symbol=output_symbol(formula),
                              options=forward.options if forward else {})
        self.events.append(event)

    def on_update(self, param, name, rule, before, grad, after) -> None:
        if self._full():
            return
        if name and id(param) not in self._module_names and not getattr(param, "name", None):
            self._module_names[id(param)] = str(name)
        event = UpdateEvent(step=len(self.events) + 1, op="update", formula=rule or "w ← w − lr·∂L/∂w",
                            before=self._snapshot(param, values=before),
                            grad=self._snapshot(param, values=grad, is_grad=True),
                            after=self._snapshot(param, values=after))
        self.events.append(event)

    # ---- end of recording -------------------------------------------------------------------------
    def close(self) -> None:
        """Settle names, number the steps and let go of the tensors (the events keep copies)."""
        if self._frame is not None:      # the function has returned: its last values, and its Modules
            self._read_variables(self._frame, modules=True)
            self._read_variables(self._frame)
            self._frame = None
        self._settle_names()
        for event in self.events:
            event.total = len(self.events)
        self._keys.clear()
        self._alive.clear()
        self._forward_of.clear()
        self._contexts.clear()

    # ---- the graph as a picture (see picture.py) ----------------------------------------------------
    def graph(self, title: str = ""):
        """The computation graph of the forward steps: a picture in a notebook; ``.svg()``, ``.dot()``, ``.save(path)``."""
        from .picture import ComputationGraph

        return ComputationGraph.from_tape(self, title=title)

    def graph_svg(self, title: str = "") -> str:
        """The computation graph as SVG text, laid out and drawn here (no Graphviz needed)."""
        return self.graph(title).svg()

    def to_dot(self, title: str = "") -> str:
        """The computation graph as Graphviz DOT text (``dot -Tpng graph.dot -o graph.png``)."""
        return self.graph(title).dot()

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """In a notebook: the steps per phase and the summary table (``repr`` stays one line)."""
        from .._display import mimebundle
        from .render import tape_view

        return mimebundle(tape_view(self), include=include, exclude=exclude)


_FRAMES_TO_SEARCH = 40      # how far up the stack an op may run from the named function's frame
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _subscript(number: int) -> str:
    return str(number).translate(_SUBSCRIPTS)


def _check_max_events(max_events):
    if max_events is None:
        return None
    if isinstance(max_events, bool) or not isinstance(max_events, int):
        raise TypeError(f"trace.record: max_events must be a whole number of events (or None for no cap), "
                        f"got {type(max_events).__name__} {max_events!r}")
    if max_events < 1:
        raise ValueError(f"trace.record: max_events must be at least 1 (or None for no cap), got {max_events}")
    return max_events


def _code_of(function):
    """The code object of ``function`` (a function, method or code object; None for None)."""
    if function is None or isinstance(function, types.CodeType):
        return function
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if not isinstance(code, types.CodeType):
        raise TypeError(f"trace.record: names_from must be a Python function (whose variables name the "
                        f"tensors), got {type(function).__name__}")
    return code


@contextlib.contextmanager
def record(directions=None, modules=(), names_from=None, max_events: int | None = DEFAULT_MAX_EVENTS):
    """Record every forward op, backward op and optimizer update inside the ``with`` block.

    ``directions``: a `Directions` vocabulary (or mapping name -> vector); vector-valued events then
    carry their projections onto each name. ``modules``: a Module, several, or ``{"prefix": module}``
    whose parameters are named from the module tree. ``names_from``: a function run inside the block
    whose variables name the tensors they hold. ``max_events``: how many events to keep (the first
    ones; the rest are counted in ``tape.dropped``; None keeps every one). Yields the `Tape`; the
    previous recorder (if any) is restored afterwards, also when the block raises.
    """
    tape = Tape(directions=directions, modules=modules, names_from=names_from, max_events=max_events)
    previous = autograd.set_recorder(tape)
    try:
        yield tape
    finally:
        autograd.set_recorder(previous)
        tape.close()
