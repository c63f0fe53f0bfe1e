"""The schedule: two captures of the same call, turned into the program a replay runs.

    capture A, capture B ─► the same kernels? ─► where each array comes from ─► what Python must see
        ─► drop what nothing needs ─► compute constants once ─► skip views that change nothing
        ─► fuse elementwise chains (pure-Python backend) ─► give the intermediates buffers

Why two captures. One run cannot tell a parameter from a constant: both are arrays that were there
before the call. The second run can: a parameter's array is one the first run made (its update), a
constant's is the very same object, an argument's is whatever the caller passed. Comparing the two
runs also catches what a replay cannot repeat: Python that takes another path, random numbers drawn
in Python, a number computed in Python that changes from call to call.

Where an array comes from (a `Source`):

* ``argument``  the data of a tensor passed to the function (read from the call's arguments);
* ``tensor``    what a tensor that lives across calls holds: ``w.data`` or ``w.grad.data`` (read at the start);
* ``constant``  an array that is the same object in every call, or one computed from such arrays only;
* ``state``     an array only the function keeps (an optimizer's momentum): made by the previous call, so
                the replay overwrites it in place with the new value, where Python keeps looking for it;
* ``kernel``    made by a kernel of this call;
* ``optimizer`` made by an optimizer whose update runs eagerly (its numbers change every call).

A write into an array (``__setitem__``, as ``w.sub_`` does) makes a new version of that array. When the
array is an argument's or a tensor's that lives across calls, the write is something Python sees after
the call even though the tensor still holds the same array object: it is kept like a returned value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..backend import is_array
from . import JitError
from .capture import Capture, Kernel, display_name


class Unstable(Exception):
    """The two captures differ; ``text`` says how. ``main``: in the function itself, not an optimizer."""

    def __init__(self, text: str, main: bool = True):
        super().__init__(text)
        self.text, self.main = text, main


@dataclass(eq=False, repr=False)
class Source:
    """Where one array of the program comes from (see the module's docstring)."""

    kind: str
    array: object = None          # the array as the second capture saw it
    position: int | None = None   # for an argument: its place among the tensors given
    tensor: object = None         # for "tensor": the tensor that holds it ...
    attr: str = ""                # ... in "data" or "grad"
    kernel: Kernel | None = None  # for "kernel"/"constant"/"state"/"optimizer": the kernel that made it
    alias: Source | None = None   # a view that changes nothing: the source it is the same as
    name: str = ""                # its name in the generated code
    holder: str = ""              # for "tensor": the name of the tensor in the generated code
    label: str = ""               # for "tensor": how the user's code calls it (``model.up.weight.data``)
    raw: bool = False             # a lowered NumPy kernel made it: a bare ndarray, not a backend array
    seen: object = None           # for "state": the array the second capture read (the first one's result)

    def __repr__(self) -> str:
        made = f" by #{self.kernel.number}" if self.kernel is not None else ""
        return f"<{self.kind}{made} {self.name or ''}>".replace(" >", ">")

    def final(self) -> Source:
        source = self
        while source.alias is not None:
            source = source.alias
        return source


@dataclass(eq=False, repr=False)
class Group:
    """Elementwise kernels fused into one loop (pure-Python backend): ``root`` makes the result."""

    number: int
    root: Kernel
    members: list                     # the kernels in it, in the order they ran
    leaves: list                      # the Sources it reads, one loop variable each
    expression: str = ""              # the element's formula with the loop variables
    raises: bool = False              # it contains an op that can fail (÷ 0, overflow): keep a fallback


@dataclass(eq=False, repr=False)
class Program:
    """Everything a replay needs and everything ``explain()`` shows."""

    name: str
    calls: tuple                      # the numbers of the two capture calls
    kernels: list                     # the second capture's kernels, each with its fate
    arguments: list                   # (name, tensor) of the second capture
    inputs: list = field(default_factory=list)        # the Sources read at the start (arguments, tensors)
    constants: list = field(default_factory=list)     # Sources of kind "constant" that are used
    states: list = field(default_factory=list)        # (holder Source, Source of the new value)
    writes: list = field(default_factory=list)        # (tensor, attr, Source or None): what Python sees after
    result: object = None                             # the returned value as a template
    steps: list = field(default_factory=list)         # what runs, in order: Kernels and Groups
    groups: list = field(default_factory=list)
    stable_optimizers: list = field(default_factory=list)
    eager_optimizers: list = field(default_factory=list)   # (optimizer, why)
    read_guards: list = field(default_factory=list)   # (tensor, attr, array): reads that stay true while these hold
    in_place: list = field(default_factory=list)      # (Kernel, Source): writes into an array that outlives the call
    buffers: dict = field(default_factory=dict)       # buffer name -> the kernels whose results it held
    updates: list = field(default_factory=list)       # (optimizer, parameter, name) of the second capture
    names: dict = field(default_factory=dict)         # id(tensor) -> the name the user's code gives it
    source: str = ""                                  # the generated code
    replay: object = None                             # the generated function
    namespace: dict = field(default_factory=dict)     # what the generated code refers to by name


# ================================================================================================
# Comparing two captures
# ================================================================================================


def arrays_in(value, out: list) -> list:
    """The arrays in a kernel's operand (an array, or tuples/lists/dicts holding some), in order."""
    if is_array(value):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            arrays_in(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            arrays_in(item, out)
    return out


def operand_arrays(kernel: Kernel) -> list:
    return arrays_in(kernel.operands(), [])


def _same(a, b) -> bool:
    """Equal for a replay: arrays by shape, dtype and layout, numbers bit for bit (-0.0 is not 0.0)."""
    if is_array(a) or is_array(b):
        return (is_array(a) and is_array(b) and type(a) is type(b) and tuple(a.shape) == tuple(b.shape)
                and a.dtype == b.dtype and tuple(a.strides) == tuple(b.strides))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a.hex() == b.hex()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, slice):
        return _same((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if hasattr(a, "tobytes") and hasattr(a, "dtype"):          # a NumPy array given to from_numpy
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _same_kernel(a: Kernel, b: Kernel) -> bool:
    if a.name != b.name or a.backend is not b.backend or not _same(a.receiver, b.receiver):
        return False
    if not _same(a.args, b.args) or not _same(a.kwargs, b.kwargs):
        return False
    return a.kind == "read" or _same(a.out, b.out)


def _difference(a: Kernel, b: Kernel) -> str:
    """What changed between two kernels at the same place, said for a reader."""
    head = f"#{a.number} {a.describe()}"
    if a.name != b.name:
        return (f"kernel {head} ({a.op}, {a.where}) became #{b.number} {b.describe()} ({b.op}, {b.where}): "
                "Python took another path")
    if a.name in ("from_flat", "from_numpy") and not _same(a.args[:1], b.args[:1]):
        return (f"kernel {head} ({a.op}, {a.where}) made a tensor from different numbers: numbers that Python "
                "makes in the function (random numbers, data read in Python) would be frozen in a replay; "
                "make them outside and pass the tensor in")
    changed = _first_changed(a.operands(), b.operands())
    if changed:
        return f"kernel {head} ({a.op}, {a.where}): {changed}"
    return f"kernel {head} ({a.op}, {a.where}) changed its output from {a.describe()} to {b.describe()}"


def _first_changed(a, b) -> str:
    if is_array(a) and is_array(b):
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            return f"an input changed from {tuple(a.shape)} {a.dtype} to {tuple(b.shape)} {b.dtype}"
        if tuple(a.strides) != tuple(b.strides):
            return f"an input's layout changed (strides {tuple(a.strides)} to {tuple(b.strides)})"
        return ""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for x, y in zip(a, b):
            text = _first_changed(x, y)
            if text:
                return text
        return ""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return next((t for t in (_first_changed(a[k], b[k]) for k in a) if t), "")
    if _same(a, b):
        return ""
    return (f"its number {a!r} became {b!r}: a number computed in Python that changes between calls "
            "(a step count, a schedule) would be frozen in a replay")


def _parts(capture: Capture) -> tuple:
    """(the kernels outside any optimizer step, [the kernels of each optimizer's step] in order)."""
    main = [k for k in capture.kernels if k.optimizer is None]
    steps = [[k for k in capture.kernels if k.optimizer is o] for o in capture.optimizers]
    return main, steps


def compare(a: Capture, b: Capture, final: bool):
    """Check that the two captures ran the same kernels; returns (A kernel id -> B kernel, eager optimizers).

    The first time any difference is an `Unstable` (the first call may take a path of its own: an
    optimizer's first step). When ``final``, a difference in the function's own kernels is a `JitError`,
    and an optimizer whose kernels differ (its numbers change every call) runs eagerly in the replay."""
    main_a, steps_a = _parts(a)
    main_b, steps_b = _parts(b)
    aligned, varying = {}, []
    for ka, kb in zip(main_a, main_b):
        if not _same_kernel(ka, kb):
            if _same_but_numbers_from_python(ka, kb):
                varying.append((ka, kb))     # a problem only if something needs them: see build
            else:
                _unstable(f"calls {a.number} and {b.number} ran different kernels: {_difference(ka, kb)}", final)
        aligned[id(ka)] = kb
    if len(main_a) != len(main_b):
        longer, shorter = (main_a, b) if len(main_a) > len(main_b) else (main_b, a)
        extra = longer[min(len(main_a), len(main_b))]
        _unstable(f"calls {a.number} and {b.number} ran different kernels: call {shorter.number} stopped before "
                  f"#{extra.number} {extra.describe()} ({extra.op}, {extra.where}): Python took another path", final)
    if [type(o) for o in a.optimizers] != [type(o) for o in b.optimizers]:
        _unstable(f"calls {a.number} and {b.number} stepped different optimizers", final)
    eager = []
    for optimizer, ka_list, kb_list in zip(b.optimizers, steps_a, steps_b):
        same = len(ka_list) == len(kb_list) and all(map(_same_kernel, ka_list, kb_list))
        if same:
            aligned.update((id(ka), kb) for ka, kb in zip(ka_list, kb_list))
            continue
        why = next((_difference(ka, kb) for ka, kb in zip(ka_list, kb_list) if not _same_kernel(ka, kb)),
                   f"it ran {len(ka_list)} kernels in call {a.number} and {len(kb_list)} in call {b.number}")
        if not final:
            raise Unstable(f"{type(optimizer).__name__}'s update differs between calls {a.number} and {b.number}: "
                           f"{why}", main=False)
        eager.append((optimizer, why))
    return aligned, eager, varying


def _same_but_numbers_from_python(a: Kernel, b: Kernel) -> bool:
    """Two tensors made from Python numbers with the same shape and dtype, but different numbers."""
    return (a.name == b.name and a.name in ("from_flat", "from_numpy") and a.backend is b.backend
            and _same(a.args[1:], b.args[1:]) and _same(a.kwargs, b.kwargs) and _same(a.out, b.out))


def _unstable(text: str, final: bool):
    if final:
        raise JitError(f"{text}.\nA replay runs one fixed list of kernels, so it cannot follow Python that "
                       "changes from call to call.")
    raise Unstable(text)


def check_settings(a: Capture, b: Capture) -> None:
    """An optimizer whose settings (lr ...) change inside the function: a replay would not change them."""
    for capture in (a, b):
        for optimizer in capture.optimizers:
            key = id(optimizer)
            at_step = capture.settings_at_step.get(key)
            for when, other in (("before its step", capture.settings_before.get(key)),
                                ("after its step", capture.settings_after.get(key))):
                if other is None or at_step is None or other == at_step:
                    continue
                changed = ", ".join(f"{name} {other[name]!r} → {at_step[name]!r}" if when.startswith("before")
                                    else f"{name} {at_step[name]!r} → {other[name]!r}"
                                    for name in at_step if other.get(name) != at_step[name])
                raise JitError(f"the function changes {type(optimizer).__name__}'s settings itself ({changed}, "
                               f"{when}): a replay runs kernels only, not the Python that changes them. Change "
                               "them outside the jitted function (a learning-rate schedule's step() after the call)")


# ================================================================================================
# Building the program
# ================================================================================================


def build(name: str, a: Capture, b: Capture, final: bool) -> Program:
    """The program that replays call ``b`` (checked against call ``a``); raises Unstable or JitError."""
    aligned, eager, varying = compare(a, b, final)
    check_settings(a, b)
    eager_ids = {id(o) for o, _ in eager}
    program = Program(name, (a.number, b.number), b.kernels, b.arguments)
    program.updates = b.updates
    program.eager_optimizers = eager
    program.stable_optimizers = [o for o in b.optimizers if id(o) not in eager_ids]
    _resolve(program, a, b, aligned, eager_ids)
    _visible(program, b)
    _in_place_writes(program)
    _fold_constants(program)
    _skip_views(program)
    _check_reads(program)
    needed = _keep_what_is_needed(program)
    for ka, kb in varying:
        if id(kb) in needed:
            _unstable(f"calls {a.number} and {b.number} ran different kernels: {_difference(ka, kb)}", final)
    return program


def _resolve(program: Program, a: Capture, b: Capture, aligned: dict, eager_ids: set) -> None:
    """Give every operand of every kernel of call ``b`` its Source."""
    version: dict[int, Source] = {}       # id(array) -> the Source of its current value in this call
    external: dict[int, Source] = {}      # id(array) -> Source, for arrays from before the call
    b_of_a = aligned
    a_of_b = {id(kb): ka for ka in a.kernels for kb in [aligned.get(id(ka))] if kb is not None}
    for kernel in b.kernels:
        if kernel.optimizer is not None and id(kernel.optimizer) in eager_ids:
            kernel.fate, kernel.note = "eager", f"{type(kernel.optimizer).__name__}.step() runs eagerly"
            made = kernel.receiver if kernel.kind == "mutate" else kernel.out
            if kernel.kind != "read" and not kernel.identity:
                version[id(made)] = Source("optimizer", array=made, kernel=kernel)
            continue
        counterpart = a_of_b.get(id(kernel))
        operands_b = operand_arrays(kernel)
        operands_a = operand_arrays(counterpart) if counterpart is not None else [None] * len(operands_b)
        kernel.inputs = []
        for xb, xa in zip(operands_b, operands_a):
            source = version.get(id(xb)) or external.get(id(xb))
            if source is None:
                source = external[id(xb)] = _classify(xb, xa, kernel, a, b, b_of_a, program)
            kernel.inputs.append(source)
        if kernel.kind == "read":
            kernel.fate = "read"
        elif kernel.kind == "mutate":
            kernel.value = version[id(kernel.receiver)] = Source("kernel", array=kernel.receiver, kernel=kernel)
        elif kernel.identity:
            kernel.fate, kernel.note = "same as input", "it returned its input unchanged"
            kernel.value = next(s for s, x in zip(kernel.inputs, operands_b) if x is kernel.out)
        else:
            kernel.value = version[id(kernel.out)] = Source("kernel", array=kernel.out, kernel=kernel)
    program._version, program._external = version, external


def _classify(xb, xa, kernel: Kernel, a: Capture, b: Capture, aligned: dict, program: Program) -> Source:
    """An array from before the call: an argument, a tensor's, a constant, or state from the last call."""
    position = b.argument_ids.get(id(xb))
    if position is not None:
        if xa is not None and a.argument_ids.get(id(xa)) != position:
            raise JitError(f"kernel #{kernel.number} {kernel.describe()} ({kernel.where}) reads argument "
                           f"{b.arguments[position][0]!r} in call {b.number} but not in call {a.number}")
        return Source("argument", array=xb, position=position)
    held = b.entry.get(id(xb))
    if held is not None:
        tensor, attr = held
        return Source("tensor", array=xb, tensor=tensor, attr=attr)
    if xa is xb:
        return Source("constant", array=xb)
    made_in_a = a.producer.get(id(xb))
    if made_in_a is not None:
        holder_kernel = aligned.get(id(made_in_a))
        if holder_kernel is None:
            raise JitError(f"kernel #{kernel.number} {kernel.describe()} ({kernel.where}) reads an array made by "
                           f"an optimizer whose update runs eagerly; compute it outside the jitted function")
        holder = holder_kernel.receiver if holder_kernel.kind == "mutate" else holder_kernel.out
        source = Source("state", array=holder, kernel=holder_kernel, seen=xb)
        program.states.append((source, None))      # the new value is filled in by _visible
        return source
    raise JitError(f"kernel #{kernel.number} {kernel.describe()} ({kernel.op}, {kernel.where}) reads an array that "
                   f"is not an argument, not held by a tensor the function used before, and not made by the "
                   f"previous call: {kernel.where.source if kernel.where else ''!r}. A tensor made anew outside "
                   "the function before every call must be passed to it as an argument")


def _source_of(program: Program, array) -> Source | None:
    return program._version.get(id(array)) or program._external.get(id(array))


def _visible(program: Program, b: Capture) -> None:
    """What Python must see after a replay: tensors' new data and gradients, state, the returned value."""
    holders = {id(t) for t in b.holders}
    for tensor, attr, array in b.exit:
        if id(tensor) not in holders or array is b.entry_values.get((id(tensor), attr)):
            continue
        if array is None:
            program.writes.append((tensor, attr, None))
            continue
        source = _source_of(program, array)
        if source is None:
            raise JitError(f"the function put an array it did not compute into a tensor's .{attr}; "
                           "a replay cannot repeat that")
        if source.kind == "optimizer":
            continue                   # the eager optimizer step makes it again
        program.writes.append((tensor, attr, source))
    program.states = [(holder, holder.kernel.value) for holder, _ in program.states]
    for holder, value in program.states:
        size = math.prod(holder.array.shape)
        if holder.array.offset != 0 or _storage_size(holder.array) != size:
            raise JitError(f"state made by kernel #{holder.kernel.number} {holder.kernel.describe()} is a view of "
                           "a larger array; the JIT keeps only whole arrays up to date")
    program.result = _template(program, b.result, holders)


def _storage_size(array) -> int:
    storage = array.storage
    shape = getattr(storage, "shape", None)
    return math.prod(shape) if shape is not None else len(storage)


def _template(program: Program, value, holders: set):
    """The returned value, with each tensor replaced by where its array comes from."""
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        if id(value) in holders:
            return ("same tensor", value)
        source = _source_of(program, value.data)
        if source is None:
            source = program._external[id(value.data)] = Source("constant", array=value.data)
        if source.kind == "optimizer":
            raise JitError("the function returns a tensor its optimizer's eager step made; return it from "
                           "before the step, or read the parameter outside")
        return ("tensor", source)
    if isinstance(value, tuple) and type(value) is tuple:
        return ("tuple", [_template(program, v, holders) for v in value])
    if isinstance(value, list):
        return ("list", [_template(program, v, holders) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: _template(program, v, holders) for k, v in value.items()})
    return ("value", value)


def _result_sources(template) -> list:
    kind, content = template
    if kind == "tensor":
        return [content]
    if kind in ("tuple", "list"):
        return [s for item in content for s in _result_sources(item)]
    if kind == "dict":
        return [s for item in content.values() for s in _result_sources(item)]
    return []


def _written_base(kernel: Kernel) -> Source:
    """The array a write (``__setitem__``) lands in, followed back through the views it was made by and the
    earlier writes into it (``w.mul_(a).div_(b)``: the second write lands where the first did)."""
    source = kernel.inputs[0].final()
    while source.kind == "kernel" and source.kernel is not None and source.kernel.kind in ("view", "mutate"):
        source = source.kernel.inputs[0].final()
    return source


def _in_place_writes(program: Program) -> None:
    """Writes into arrays that live across calls (``w.sub_(lr * w.grad)``, ``x.zero_()`` on an argument).

    Such a tensor keeps its array object, so what Python sees after the call looks unchanged; yet its
    numbers changed, and the next call reads the new ones. Each such write is a side effect the replay
    must perform, in its place among the kernels, like a result it returns."""
    for kernel in program.kernels:
        if kernel.kind != "mutate" or kernel.fate == "eager":
            continue
        base = _written_base(kernel)
        if base.kind in ("tensor", "argument"):
            program.in_place.append((kernel, base))
            what = f"{base.attr} of a tensor" if base.kind == "tensor" else "an argument"
            kernel.note = f"writes in place into the {what} that lives across calls: the replay does it too"
        elif base.kind in ("constant", "state"):
            raise JitError(f"kernel #{kernel.number} {kernel.describe()} ({kernel.op}, {kernel.where}) writes in "
                           f"place into an array the function keeps between calls without a tensor the JIT knows "
                           f"({kernel.where.source if kernel.where else ''!r}); a replay cannot keep it up to date. "
                           "Keep it in a tensor the function reads, or pass it as an argument")


def _fold_constants(program: Program) -> None:
    """A kernel of constants only gives the same array every call: keep the one the capture made."""
    mutated = {id(k.receiver) for k in program.kernels if k.kind == "mutate" and k.fate != "eager"}
    for kernel in program.kernels:
        if kernel.fate or kernel.kind in ("read", "mutate") or kernel.value is None:
            continue
        if id(kernel.out) in mutated:
            continue
        if all(s.final().kind == "constant" for s in kernel.inputs):
            kernel.fate = "constant"
            kernel.note = "computed once, at capture: its inputs never change"
            kernel.value.kind = "constant"


def _layout(array) -> tuple:
    return (id(array.storage), tuple(array.shape), tuple(array.strides), array.offset, array.dtype)


def _skip_views(program: Program) -> None:
    """A view whose result has exactly the layout of an array already at hand is that array."""
    for kernel in program.kernels:
        if kernel.fate or kernel.kind != "view":
            continue
        wanted = _layout(kernel.out)
        source = kernel.inputs[0].final()
        while source is not None:
            if _layout(source.array) == wanted:
                kernel.fate = "view"
                kernel.note = f"the same layout as {_describe_source(source)}: nothing to do"
                kernel.value.alias = source
                break
            maker = source.kernel if source.kind == "kernel" else None
            source = maker.inputs[0].final() if maker is not None and maker.kind == "view" else None


def _describe_source(source: Source) -> str:
    if source.kind == "kernel":
        return f"#{source.kernel.number}"
    if source.kind == "argument":
        return "an argument"
    if source.kind == "tensor":
        return f"a tensor's {source.attr}"
    return f"a {source.kind}"


def _check_reads(program: Program) -> None:
    """Numbers handed to Python: fine from constants; a replay cannot know them otherwise."""
    written = {(id(t), attr) for t, attr, _ in program.writes}
    written |= {(id(base.tensor), base.attr) for _, base in program.in_place if base.kind == "tensor"}
    problems = []
    for kernel in program.kernels:
        if kernel.fate != "read":
            continue
        source = kernel.inputs[0].final()
        if source.kind == "constant":
            kernel.note = "reads a constant: the same numbers every call"
            continue
        if source.kind == "tensor" and (id(source.tensor), source.attr) not in written:
            kernel.note = "reads a tensor the function does not change; checked to be the same array every replay"
            program.read_guards.append((source.tensor, source.attr, source.array))
            continue
        what = {"argument": "the values of an argument", "state": "state the function keeps",
                "tensor": "a tensor the function changes every call",
                "kernel": f"a value the function computed (#{source.kernel.number if source.kernel else '?'})",
                "optimizer": "a value its optimizer computed"}[source.kind]
        line = f"{kernel.where}: {kernel.where.source}" if kernel.where else "(no line of yours)"
        problems.append(f"  {line}\n    {display_name(kernel.name)}() reads {what}")
    if problems:
        raise JitError("the function reads numbers into Python, so a replay (which runs kernels only) cannot "
                       "know what Python would have done with them:\n" + "\n".join(problems) +
                       "\nReturn the tensor and read it outside (loss = step(x); loss.item()), and keep Python "
                       "decisions (if, print, a list of losses) outside the jitted function")


def _keep_what_is_needed(program: Program) -> set:
    """From what Python must see, walk back: every kernel on the way runs (or was computed once), every
    other one is dropped. Returns the ids of the kernels needed."""
    roots = [s for _, _, s in program.writes if s is not None]
    roots += [value for _, value in program.states]
    roots += _result_sources(program.result)
    roots += [kernel.value for kernel, _ in program.in_place]
    needed: set[int] = set()
    stack = [s.final() for s in roots]
    while stack:
        source = stack.pop()
        if source.kind == "optimizer":
            raise JitError(f"the function computes with #{source.kernel.number} {source.kernel.describe()}, which "
                           f"{type(source.kernel.optimizer).__name__}'s eager step makes ({source.kernel.where}); "
                           "a replay runs the eager step last, so compute that outside the jitted function")
        kernel = source.kernel
        if source.kind not in ("kernel", "constant") or kernel is None or id(kernel) in needed:
            continue
        needed.add(id(kernel))
        stack.extend(s.final() for s in kernel.inputs)    # for a write into an array: that array too
    for kernel in program.kernels:
        if kernel.fate in ("constant", "") and id(kernel) not in needed and kernel.kind != "read":
            kernel.fate, kernel.note = "dead", "nothing that Python sees depends on it"
        elif not kernel.fate:
            kernel.fate = "run"
    program.steps = [k for k in program.kernels if k.fate == "run"]
    return needed
