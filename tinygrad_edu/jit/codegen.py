"""Code generation: the program as one Python function, straight-line, with fused loops.

A replay is ``replay(*arrays)``: it reads what the step reads (the arguments' arrays, the parameters'
data), checks that nothing it relies on has changed (shapes, the optimizer's settings), calls the same
kernels the step called, in the same order, on the same kinds of arrays, and finally puts the results
where Python looks for them (``w.data``, ``w.grad``, an optimizer's momentum) and returns the result.
No Tensor is made on the way, no ``Function.apply`` runs, no graph is built or walked.

On the pure-Python backend, chains of elementwise kernels (``+``, ``*``, ``relu``, ``>`` ...) become one
list comprehension: the element's whole formula in one loop instead of one loop (and one list) per op.
Each element is computed by exactly the same Python operations as before, in the same order, so the
numbers are the same to the last bit. Where an op can fail (÷ 0, an overflowing exp) the fused loop
falls back to the kernels one by one, which know what to do (fusion.py). On the NumPy backend a kernel
whose NumPy call is known is written as that call, on the bare ndarrays (lower.py).
"""
from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re

from ..backend import is_array
from ..shapes import contiguous_strides
from . import Stale
from .capture import display_name, settings
from .fusion import MATH, _final_sources, _literal, loop_source
from .schedule import Group, Program, Source


_SYMBOLS = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/", "__lt__": "<", "__le__": "<=",
            "__gt__": ">", "__ge__": ">=", "__eq__": "==", "__ne__": "!="}
_REFLECTED = {"__radd__": "+", "__rsub__": "-", "__rmul__": "*", "__rtruediv__": "/"}


# ================================================================================================
# Buffers
# ================================================================================================


def _step_inputs(step) -> list:
    if isinstance(step, Group):
        return list(step.leaves)
    return [s.final() for s in step.inputs]


def _step_value(step) -> Source:
    return (step.root if isinstance(step, Group) else step).value


def assign_buffers(program: Program) -> None:
    """Name each intermediate by the buffer it lives in, reusing a buffer once nothing reads it any more.

    A buffer here is a local variable of the generated function: when it is given a new value, Python
    frees the array it held. So the number of buffers is how many intermediates are alive at once."""
    last_use: dict[int, int] = {}
    for i, step in enumerate(program.steps):
        for source in _step_inputs(step):
            last_use[id(source)] = i
    for source in _final_sources(program):
        last_use[id(source.final())] = len(program.steps)
    free: list[str] = []
    count = itertools.count()
    for i, step in enumerate(program.steps):
        value = _step_value(step)
        inputs = _step_inputs(step)
        if not isinstance(step, Group) and step.kind == "mutate":
            value.name = inputs[0].name               # writes into that array's buffer ...
            if value.name:
                program.buffers.setdefault(value.name, []).append(step)
            continue                                  # ... or into a tensor's or argument's: named with the inputs
        released = {s.name for s in inputs if s.kind == "kernel" and s.name and last_use.get(id(s)) == i
                    and s is not value}
        free.extend(sorted(released - set(free)))
        value.name = free.pop(0) if free else f"b{next(count)}"
        program.buffers.setdefault(value.name, []).append(step)


# ================================================================================================
# The generated source
# ================================================================================================


class _Writer:
    """Names for everything the generated code refers to, and the namespace it runs in."""

    def __init__(self, program: Program):
        self.program = program
        self.namespace: dict = {"inf": math.inf, "nan": math.nan, "Stale": Stale, "values_of": values_of}
        self.used_names = set(self.namespace)
        self.comments: dict[str, str] = {}

    def unique(self, wanted: str) -> str:
        name = re.sub(r"\W", "_", wanted).strip("_") or "value"
        if name[0].isdigit() or keyword.iskeyword(name):
            name = "_" + name
        candidate, n = name, 2
        while candidate in self.used_names:
            candidate, n = f"{name}_{n}", n + 1
        self.used_names.add(candidate)
        return candidate

    def constant(self, wanted: str, value, comment: str = "") -> str:
        for name, existing in self.namespace.items():
            if existing is value:
                return name
        name = self.unique(wanted)
        self.namespace[name] = value
        if comment:
            self.comments[name] = comment
        return name

    def value(self, value) -> str:
        """Source text for a kernel's operand: an array by its name, a small Python value written out."""
        if is_array(value):
            raise AssertionError("arrays are named through their Source")
        if value is None or isinstance(value, (bool, int, str)):
            return repr(value)
        if isinstance(value, float):
            return _literal(value)
        if isinstance(value, slice):
            return f"slice({self.value(value.start)}, {self.value(value.stop)}, {self.value(value.step)})"
        if isinstance(value, tuple) and len(value) <= 8:
            inner = ", ".join(self.value(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return self.constant("k", value)


def generate(program: Program) -> None:
    """Write ``program.source`` and compile it into ``program.replay``."""
    writer = _Writer(program)
    _name_inputs(program, writer)
    lines: list[str] = []
    for group in program.groups:
        lines += _group_functions(group, writer) + [""]
    named = {s.position: s.name for s in program.inputs if s.kind == "argument"}
    arguments = [named.get(i) or writer.unique(f"unused_{name}") for i, (name, _) in enumerate(program.arguments)]
    lines.append(f"def replay({', '.join(arguments)}):")
    body = _prologue(program, writer)
    for step in program.steps:
        body += _step_lines(step, writer)
    body += _epilogue(program, writer)
    lines += ["    " + line if line else "" for line in body]
    if program.constants or writer.comments:
        notes = [f"#   {name}: {text}" for name, text in writer.comments.items()]
        lines = ["# constants (computed or found at capture, the same every call):"] + notes + [""] + lines
    program.source = "\n".join(lines) + "\n"
    filename = f"<jit {program.name}>"
    linecache.cache[filename] = (len(program.source), None, program.source.splitlines(True), filename)
    exec(compile(program.source, filename, "exec"), writer.namespace)
    program.replay = writer.namespace["replay"]
    program.namespace = writer.namespace


def _name_inputs(program: Program, writer: _Writer) -> None:
    """Names for the arguments, the tensors read, the constants and the state."""
    from ..tensor import Tensor

    writer.namespace["wrap"] = Tensor._wrap
    writer.used_names.add("wrap")
    names = dict(program.names)
    for optimizer, param, name in program.updates:
        names.setdefault(id(param), name)
    for name, tensor in program.arguments:
        names.setdefault(id(tensor), name)
    seen: dict[int, Source] = {}
    for source in _all_sources(program):
        if id(source) in seen or source.kind == "kernel":
            continue
        seen[id(source)] = source
        if source.kind == "argument":
            source.name = writer.unique(program.arguments[source.position][0])
        elif source.kind == "tensor":
            base = names.get(id(source.tensor)) or source.tensor.name or "tensor"
            source.label = f"{base}.{source.attr}"
            source.name = writer.unique(base + ("_grad" if source.attr == "grad" else ""))
            source.holder = writer.constant("T_" + base, source.tensor)
        elif source.kind == "constant":
            what = (f"made by #{source.kernel.number} {source.kernel.describe()}" if source.kernel is not None
                    else f"{tuple(source.array.shape)} {source.array.dtype}, held since before the calls")
            source.name = writer.constant(f"c{source.kernel.number}" if source.kernel is not None else "held",
                                          source.array, what)
        elif source.kind == "state":
            source.name = writer.constant(
                "state", source.array,
                f"{tuple(source.array.shape)} kept by the function between calls (made by #{source.kernel.number} "
                f"{source.kernel.op}); overwritten in place at the end of every replay")
    for step in program.steps:     # a write into a tensor's (or argument's) array: named as that array
        if not isinstance(step, Group) and step.kind == "mutate" and not step.value.name:
            step.value.name = step.inputs[0].final().name
    program.inputs = sorted((s for s in seen.values() if s.kind in ("argument", "tensor")),
                            key=lambda s: (s.kind != "argument", s.position or 0))
    program.constants = [s for s in seen.values() if s.kind in ("constant", "state")]


def _all_sources(program: Program):
    for step in program.steps:
        yield from _step_inputs(step)
    for group in program.groups:
        for member in group.members:
            for source in member.inputs:
                yield source.final()
    yield from (s.final() for s in _final_sources(program))
    for holder, _ in program.states:
        yield holder


def _group_functions(group: Group, writer: _Writer) -> list:
    """``loop_N(x0, x1, ...)``: the fused element formula over row-major value lists; and its fallback."""
    root = group.root
    params = [f"x{i}" for i in range(len(group.leaves))]
    if any(re.search(rf"\b{n}\(", group.expression) for n in MATH):
        writer.namespace["math"] = math
    kernels = ", ".join(f"#{k.number} {display_name(k.name)}" for k in group.members)
    head, body = loop_source(group, f"loop_{group.number}").rstrip().split("\n", 1)
    lines = [head, f'    """{kernels} → {tuple(root.out.shape)} {root.out.dtype}, one pass."""', body]
    if group.raises:
        names = {id(leaf): f"x{i}" for i, leaf in enumerate(group.leaves)}
        lines += ["", f"def loop_{group.number}_kernels({', '.join(params)}):",
                  f'    """The kernels of loop {group.number} one by one, as the backend runs them (for ÷ 0, '
                  'overflow ...)."""']
        for member in group.members:
            names[id(member.value)] = f"t{member.number}"
            call = _kernel_call(member, lambda s: names.get(id(s)) or s.name, writer)
            lines.append(f"    {names[id(member.value)]} = {call}")
        lines.append(f"    return {names[id(root.value)]}")
    return lines


def _prologue(program: Program, writer: _Writer) -> list:
    lines = ['"""The step, replayed: the same kernels, no tensors, no graph."""']
    written = {(id(t), attr) for t, attr, _ in program.writes}
    for source in program.inputs:
        if source.kind != "tensor":
            continue
        expected = tuple(source.array.shape)
        if source.attr == "grad":
            lines += [f"if {source.holder}.grad is None:", "    raise Stale",
                      f"{source.name} = {source.holder}.grad.data"]
        else:
            lines.append(f"{source.name} = {source.holder}.data")
        if (id(source.tensor), source.attr) not in written:    # what the replay writes keeps its shape
            lines += [f"if {source.name}.shape != {expected!r}:", "    raise Stale"]
    for tensor, attr, array in program.read_guards:
        holder = writer.constant("T_read", tensor)
        seen = writer.constant("read", array, "an array whose numbers Python read at capture")
        value = f"{holder}.data" if attr == "data" else f"{holder}.grad.data"
        lines += [f"if {value} is not {seen}:", "    raise Stale"]
    for optimizer in program.stable_optimizers:
        name = writer.constant(f"{type(optimizer).__name__.lower()}", optimizer)
        checks = [f"{name}.{key} != {writer.value(value)}" for key, value in settings(optimizer).items()]
        if checks:
            lines += [f"if {' or '.join(checks)}:", "    raise Stale"]
    return lines + [""]


def _step_lines(step, writer: _Writer) -> list:
    if isinstance(step, Group):
        return _group_lines(step, writer)
    call = _kernel_call(step, lambda s: s.name, writer)
    comment = f"  # #{step.number} {step.op}: {step.describe()}"
    if step.kind == "mutate":
        return [call + comment]
    return [f"{step.value.name} = {call}{comment}"]


def _group_lines(group: Group, writer: _Writer) -> list:
    root = group.root
    shape = tuple(root.out.shape)
    writer.namespace.setdefault("Array", type(root.out))
    values = ", ".join(_values_text(leaf, shape) for leaf in group.leaves)
    make = f"Array(loop_{group.number}({values}), {shape!r}, None, 0, {root.out.dtype!r})"
    comment = f"  # loop {group.number}: {' · '.join(sorted({k.op for k in group.members}, key=str))}"
    if not group.raises:
        return [f"{root.value.name} = {make}{comment}"]
    leaves = ", ".join(leaf.name for leaf in group.leaves)
    return ["try:", f"    {root.value.name} = {make}{comment}",
            "except (ArithmeticError, ValueError):",
            f"    {root.value.name} = loop_{group.number}_kernels({leaves})"]


def _values_text(leaf: Source, shape: tuple) -> str:
    """The leaf's elements in row-major order: its storage itself when a kernel made it whole and shaped so."""
    array = leaf.array
    exact = (leaf.kind == "kernel" and tuple(array.shape) == shape and array.offset == 0
             and tuple(array.strides) == contiguous_strides(shape) and len(array.storage) == math.prod(shape))
    return f"{leaf.name}.storage" if exact else f"values_of({leaf.name}, {shape!r})"


def _kernel_call(kernel, name_of, writer: _Writer) -> str:
    """The kernel as a Python expression on its operands (``a + b``, ``a.matmul(b)``, ``numpy.full(...)``);
    a lowered one as the NumPy call itself, on bare ndarrays."""
    sources = iter(kernel.inputs)
    if kernel.lowered:
        writer.namespace.setdefault("np", __import__("numpy"))
        return kernel.lowered.format(*(_bare(s.final(), name_of) for s in kernel.inputs))

    def text(value):
        if is_array(value):
            return _backend_array(next(sources).final(), name_of, writer)
        if isinstance(value, (list, tuple)) and any(is_array(v) for v in value):
            inner = ", ".join(text(v) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner},)"
        return writer.value(value)

    name = kernel.name
    if kernel.receiver is None:
        module = writer.constant(f"{kernel.backend.name}_backend", kernel.backend)
        args = [text(v) for v in kernel.args] + [f"{k}={text(v)}" for k, v in kernel.kwargs.items()]
        return f"{module}.{name}({', '.join(args)})"
    receiver = text(kernel.receiver)
    args = [text(v) for v in kernel.args]
    kwargs = [f"{k}={text(v)}" for k, v in kernel.kwargs.items()]
    if name in _SYMBOLS and not kwargs:
        return f"{receiver} {_SYMBOLS[name]} {args[0]}"
    if name in _REFLECTED and not kwargs:
        return f"{args[0]} {_REFLECTED[name]} {receiver}"
    if name == "__pow__":
        return f"{receiver} ** {args[0]}"
    if name == "__rpow__":
        return f"{args[0]} ** {receiver}"
    if name == "__neg__":
        return f"-{receiver}"
    if name == "__getitem__":
        return f"{receiver}[{_key_text(kernel.args[0], writer)}]"
    if name == "__setitem__":
        return f"{receiver}[{_key_text(kernel.args[0], writer)}] = {args[1]}"
    return f"{receiver}.{name}({', '.join(args + kwargs)})"


def _bare(source: Source, name_of=lambda s: s.name) -> str:
    """A NumPy-backend value as the bare ndarray a lowered kernel works on."""
    return name_of(source) if source.raw else f"{name_of(source)}.a"


def _backend_array(source: Source, name_of, writer: _Writer) -> str:
    """A value as the backend array Python and the backend's own kernels expect (bare ndarrays wrapped)."""
    if not source.raw:
        return name_of(source)
    wrapper = writer.constant("NumpyArray", type(source.kernel.out))
    return f"{wrapper}({name_of(source)})"


def _key_text(key, writer: _Writer) -> str:
    """An index written as Python writes it: ``a[1:, :, None]``."""
    if not isinstance(key, tuple):
        return writer.value(key)
    if not key:
        return "()"

    def part(item):
        if isinstance(item, slice):
            text = ":".join("" if v is None else writer.value(v) for v in (item.start, item.stop))
            return text + (f":{writer.value(item.step)}" if item.step is not None else "")
        return writer.value(item)

    parts = [part(item) for item in key]
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _epilogue(program: Program, writer: _Writer) -> list:
    lines = []
    for holder, value in program.states:
        key = _key_text((slice(None),) * len(holder.array.shape), writer)
        value = _backend_array(value.final(), lambda v: v.name, writer)
        lines.append(f"{holder.name}[{key}] = {value}  # kept in place, where the function looks for it")
    for tensor, attr, source in program.writes:
        holder = writer.constant("T", tensor)
        for s in program.inputs:
            if s.kind == "tensor" and s.tensor is tensor:
                holder = s.holder
        value = None if source is None else _backend_array(source.final(), lambda v: v.name, writer)
        if attr == "data":
            lines.append(f"{holder}.data = {value}")
        else:
            lines.append(f"{holder}.grad = {'None' if value is None else f'wrap({value})'}")
    for optimizer in program.stable_optimizers:
        name = writer.constant(type(optimizer).__name__.lower(), optimizer)
        lines.append(f"{name}.steps += 1  # the one piece of bookkeeping step() does besides its kernels")
    for optimizer, _ in program.eager_optimizers:
        name = writer.constant(type(optimizer).__name__.lower(), optimizer)
        lines.append(f"{name}.step()  # runs eagerly: its numbers change from call to call")
    lines.append(f"return {_result_text(program.result, writer)}")
    return lines


def _result_text(template, writer: _Writer) -> str:
    kind, content = template
    if kind == "tensor":
        return f"wrap({_backend_array(content.final(), lambda v: v.name, writer)})"
    if kind == "same tensor":
        return writer.constant("T", content)
    if kind in ("tuple", "list"):
        inner = ", ".join(_result_text(item, writer) for item in content)
        if kind == "list":
            return f"[{inner}]"
        return f"({inner},)" if len(content) == 1 else f"({inner})"
    if kind == "dict":
        return "{" + ", ".join(f"{writer.value(k)}: {_result_text(v, writer)}" for k, v in content.items()) + "}"
    if content is None or isinstance(content, (bool, int, float, str)):
        return writer.value(content)
    return writer.constant("returned", content)


# ================================================================================================
# Runtime helper
# ================================================================================================


def values_of(array, shape: tuple) -> list:
    """A pure-Python array's elements broadcast to ``shape``, in row-major order, to read (never to write):
    its storage itself when that holds exactly these elements, else a new list."""
    if array.shape != shape:
        array = array.expand(shape)
    storage = array.storage
    if array.offset == 0 and len(storage) == math.prod(shape) and array.is_contiguous():
        return storage
    return array.flat()
