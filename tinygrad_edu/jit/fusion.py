"""Fusion (pure-Python backend): a chain of elementwise kernels as one loop.

On the pure-Python backend every elementwise kernel (``+``, ``*``, ``relu``, ``>`` ...) is one pass over all
the elements that makes a new list. A chain of them can be one pass that computes each element's whole
formula, with no list in between: ``[(e0 - (e1 * 0.01)) for e0, e1 in zip(x0, x1)]`` is SGD's
``w − lr·g`` in one loop instead of two.

The formulas must be the backend's own, to the last bit: the same Python operations in the same order,
with the same answers for ±0, ±∞ and nan. So nothing here is trusted on its own word. Each op's formula
is checked against the backend on a battery of awkward numbers (once per process; where a backend has
changed how it computes an element, the first formula that agrees is used, and an op none agrees with
is not fused), and each loop is checked on the numbers of the capture. What fails a check stays a
kernel. An op that can fail (÷ 0, an overflowing ``exp``) keeps the kernels one by one as a fallback,
for the elements where the formula raises.
"""
from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from functools import lru_cache

from ..backend import is_array
from .schedule import Group, Program, Source, _result_sources

# Candidate element formulas of each op: {0}, {1}, {2} are its operands in the order the backend hands
# them to its element function; {v} and {w} are names for a value used twice; {zero} is the zero of the
# input's dtype. The first candidate that gives the backend's own bits is used.
FORMULAS = {
    "__add__": ["({0} + {1})"], "__radd__": ["({1} + {0})"],
    "__sub__": ["({0} - {1})"], "__rsub__": ["({1} - {0})"],
    "__mul__": ["({0} * {1})"], "__rmul__": ["({1} * {0})"],
    "__truediv__": ["({0} / {1})"], "__rtruediv__": ["({1} / {0})"],
    "__pow__": ["pow({0}, {1})"], "__rpow__": ["pow({1}, {0})"],
    "__lt__": ["({0} < {1})"], "__le__": ["({0} <= {1})"], "__gt__": ["({0} > {1})"],
    "__ge__": ["({0} >= {1})"], "__eq__": ["({0} == {1})"], "__ne__": ["({0} != {1})"],
    "__neg__": ["(-{0})"], "abs": ["abs({0})"],
    "exp": ["exp({0})"], "log": ["log({0})"], "sqrt": ["sqrt({0})"], "tanh": ["tanh({0})"],
    "relu": ["({zero} if ({v} := {0}) <= 0 else {v})", "({v} if ({v} := {0}) > 0 else {zero})"],
    "maximum": ["({v} if ({v} := {0}) > ({w} := {1}) or {v} != {v} else {w})", "max({0}, {1})"],
    "minimum": ["({v} if ({v} := {0}) < ({w} := {1}) or {v} != {v} else {w})", "min({0}, {1})"],
    "where": ["({1} if {0} else {2})"],
}
BRANCHES = {"where": (1, 2)}        # operands evaluated only on one side of a condition
MATH = {"pow": math.pow, "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh}
CAN_FAIL = {"__truediv__", "__rtruediv__", "__pow__", "__rpow__", "exp", "log", "sqrt"}
FAILURES = (ArithmeticError, ValueError)

BATTERY = [0.0, -0.0, 1.5, -2.25, 3.0, 1e308, -1e-310, math.inf, -math.inf, math.nan]
NUMBERS = {float: [0.0, -0.0, 0.5, -2.0, math.inf, math.nan], int: [0, 1, -3], bool: [False, True]}


def _kinds(kernel) -> tuple | None:
    """Each operand as "f" (a float64 array), "b" (a bool array) or the type of a Python number; None when
    the kernel is not one the fuser writes (another backend, another dtype, another op)."""
    if getattr(kernel.backend, "name", "") != "python" or kernel.name not in FORMULAS:
        return None
    if not is_array(kernel.out) or kernel.out.dtype not in ("float64", "bool"):
        return None
    kinds = []
    for value in kernel.operands():
        if is_array(value):
            if value.dtype not in ("float64", "bool"):
                return None
            kinds.append("f" if value.dtype == "float64" else "b")
        elif type(value) in (int, float, bool):
            kinds.append(type(value))
        else:
            return None
    return tuple(kinds)


def formula_for(kernel) -> str | None:
    """The kernel's element formula (a template), checked against the backend; None when none agrees."""
    kinds = _kinds(kernel)
    return None if kinds is None else _agreeing_formula(kernel.name, kinds, type(kernel.receiver))


@lru_cache(maxsize=None)
def _agreeing_formula(name: str, kinds: tuple, array_type) -> str | None:
    for template in FORMULAS[name]:
        if _agrees(name, kinds, template, array_type):
            return template
    return None


def _agrees(name: str, kinds: tuple, template: str, array_type) -> bool:
    """The template gives the backend's bits for every combination of the battery's values."""
    import sys

    backend = sys.modules[array_type.__module__]
    array_choices = [BATTERY if k == "f" else [True, False] for k in kinds if isinstance(k, str)]
    number_choices = [NUMBERS[k] for k in kinds if not isinstance(k, str)]
    columns = list(zip(*itertools.product(*array_choices))) if array_choices else []
    for numbers in itertools.product(*number_choices):
        arrays = [backend.from_flat(list(col), (len(col),), "float64" if k == "f" else "bool")
                  for col, k in zip(columns, (k for k in kinds if isinstance(k, str)))]
        operands, arrays_left, numbers_left = [], iter(arrays), iter(numbers)
        for k in kinds:
            operands.append(next(arrays_left) if isinstance(k, str) else next(numbers_left))
        try:
            expected = getattr(operands[0], name)(*operands[1:]).flat()
        except Exception:
            return False
        texts, names = [], iter(range(len(columns)))
        for k, value in zip(kinds, operands):
            texts.append(f"e{next(names)}" if isinstance(k, str) else _literal(value))
        zero = "0.0" if kinds[0] == "f" else "False"
        body = _fill(template, texts, itertools.count(), zero)
        params = ", ".join(f"e{i}" for i in range(len(columns)))
        element = eval(f"lambda {params}: {body}", {**MATH, "inf": math.inf, "nan": math.nan})
        for values, want in zip(zip(*columns) if columns else [()] * len(expected), expected):
            try:
                got = element(*values)
            except FAILURES:
                if name in CAN_FAIL:
                    continue           # the loop falls back to the kernels for such elements
                return False
            if not _same_number(got, want):
                return False
    return True


def _same_number(a, b) -> bool:
    if type(a) is not type(b):
        return False
    return a.hex() == b.hex() if isinstance(a, float) else a == b


def _fill(template: str, operands: list, fresh, zero: str) -> str:
    """The template with its operands, fresh names for {v}/{w} and the dtype's zero put in."""
    names = {}

    def name(match):
        key = match.group(1)
        if key.isdigit():
            return operands[int(key)]
        if key == "zero":
            return zero
        if key not in names:
            names[key] = f"v{next(fresh)}"
        return names[key]

    return re.sub(r"\{(\w+)\}", name, template)


def _evaluation_order(template: str) -> list[int]:
    """The operands in the order Python evaluates them in the template (``({1} + {0})``: 1 first)."""
    order = []
    for match in re.finditer(r"\{(\d)\}", template):
        index = int(match.group(1))
        if index not in order:
            order.append(index)
    return order


def _literal(value) -> str:
    """Python source for a number that reads back as exactly the same number."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "(-inf)")
    return repr(value)


# ================================================================================================
# Planning the loops
# ================================================================================================


def fuse(program: Program) -> None:
    """Turn chains of elementwise kernels into loops (`Group`s); updates ``program.steps`` and the fates.

    A kernel is folded into the kernels that use its result (*inlined*) when every one of them is
    elementwise over the same shape and nothing else (Python, a matmul, a view) needs the result as an
    array. With one user that is plain fusion. With several users it is recomputed in each, but only if it
    is a single op on arrays at hand (the bias add before a ReLU, whose result the ReLU's backward also
    reads): computing ``a + b`` twice costs less than writing it out and reading it back.
    A loop that does not reproduce the capture's numbers is planned again without its kernels."""
    banned: set[int] = set()
    while True:
        steps, groups = _plan(program, banned)
        failed = [g for g in groups if not _reproduces_capture(g)]
        if not failed:
            break
        for group in failed:
            banned.update(id(k) for k in group.members)
    program.steps, program.groups = steps, groups
    for group in groups:
        for member in group.members:
            member.fate = "fused"
            where = f"loop {group.number}"
            if member is group.root:
                member.note = f"{where} (its result)"
            elif member.note.startswith("in loop"):
                member.note += f", {where}"
            else:
                member.note = f"in {where}"


def _plan(program: Program, banned: set) -> tuple[list, list]:
    def fusable(kernel) -> bool:
        return kernel.fate == "run" and id(kernel) not in banned and formula_for(kernel) is not None

    users = defaultdict(list)
    for kernel in program.steps:
        for source in kernel.inputs:
            users[id(source.final())].append(kernel)
    outside = {id(s.final()) for s in _final_sources(program)}
    # An inlined kernel is computed where its loop's result is; if an array it reads is written in place in
    # between (``w.sub_(...)``), it would read the new numbers instead of the ones it read in the capture.
    writes = [(id(k.receiver.storage), k.number) for k in program.steps if k.kind == "mutate"]

    def overwritten_later(kernel) -> bool:
        return any(storage == id(s.final().array.storage) and number > kernel.number
                   for s in kernel.inputs for storage, number in writes)

    inline: set[int] = set()
    for kernel in program.steps:
        if not fusable(kernel) or id(kernel.value) in outside or overwritten_later(kernel):
            continue
        readers = list({id(u): u for u in users.get(id(kernel.value), [])}.values())
        if not readers or not all(fusable(u) and tuple(u.out.shape) == tuple(kernel.out.shape) for u in readers):
            continue
        single_op = not any(s.final().kind == "kernel" and id(s.final().kernel) in inline for s in kernel.inputs)
        if len(readers) == 1 or single_op:
            inline.add(id(kernel))
    steps, groups = [], []
    for kernel in program.steps:
        if id(kernel) in inline:
            continue
        if fusable(kernel) and any(s.final().kind == "kernel" and id(s.final().kernel) in inline
                                   for s in kernel.inputs):
            group = _group(len(groups) + 1, kernel, inline)
            groups.append(group)
            steps.append(group)
        else:
            steps.append(kernel)
    return steps, groups


def _group(number: int, root, inline: set) -> Group:
    """The loop of ``root`` and the inlined kernels it reads: the element's formula over the leaves.

    A kernel the formula reads twice (GELU reads its input three times) is computed once per element and
    named with ``:=`` where it is first evaluated, unless that is inside one branch of a ``where``."""
    leaves: list[Source] = []
    members = {}
    fresh = itertools.count()
    uses: dict[int, int] = defaultdict(int)
    bound: dict[int, str] = {}

    def operands_in_order(kernel):
        """(operand index, value, Source or None), in the order Python evaluates the formula's operands."""
        sources = iter(kernel.inputs)
        items = [(i, v, next(sources).final() if is_array(v) else None) for i, v in enumerate(kernel.operands())]
        order = _evaluation_order(formula_for(kernel))
        return [items[i] for i in order]

    def inlined(source):
        return source is not None and source.kind == "kernel" and id(source.kernel) in inline

    def count(kernel):
        uses[id(kernel)] += 1
        for _, _, source in operands_in_order(kernel):
            if inlined(source):
                count(source.kernel)

    def leaf(source: Source) -> str:
        for i, known in enumerate(leaves):
            if known is source:
                return f"e{i}"
        leaves.append(source)
        return f"e{len(leaves) - 1}"

    def render(kernel, conditional: bool) -> str:
        if id(kernel) in bound:
            return bound[id(kernel)]
        members[id(kernel)] = kernel
        operands = {}
        for i, value, source in operands_in_order(kernel):
            branch = conditional or i in BRANCHES.get(kernel.name, ())
            if source is None:
                operands[i] = _literal(value)
            elif inlined(source):
                operands[i] = render(source.kernel, branch)
            elif source.kind == "constant" and _one_number(source.array):
                operands[i] = _literal(source.array.item())
            else:
                operands[i] = leaf(source)
        zero = "0.0" if kernel.receiver.dtype == "float64" else "False"
        text = _fill(formula_for(kernel), [operands[i] for i in sorted(operands)], fresh, zero)
        if uses[id(kernel)] > 1 and not conditional and kernel is not root:
            name = bound[id(kernel)] = f"s{len(bound)}"
            return f"({name} := {text})"
        return text

    count(root)
    expression = render(root, False)
    ordered = sorted(members.values(), key=lambda k: k.number)
    group = Group(number, root, ordered, leaves, expression)
    group.raises = any(k.name in CAN_FAIL for k in ordered)
    return group


def _one_number(array) -> bool:
    """A constant that is one number, however it is broadcast (a stride-0 view of a single element)."""
    storage = array.storage
    return isinstance(storage, list) and len(storage) == 1


def loop_source(group: Group, name: str) -> str:
    """``def name(x0, x1, ...)``: the loop over the leaves' row-major values."""
    params = [f"x{i}" for i in range(len(group.leaves))]
    loop_vars = ", ".join(f"e{i}" for i in range(len(group.leaves)))
    zipped = params[0] if len(params) == 1 else f"zip({', '.join(params)})"
    used = sorted(n for n in MATH if re.search(rf"\b{n}\(", group.expression))
    defaults = "".join(f", {n}=math.{n}" for n in used)
    return (f"def {name}({', '.join(params)}{defaults}):\n"
            f"    return [{group.expression} for {loop_vars} in {zipped}]\n")


def _reproduces_capture(group: Group) -> bool:
    """The loop, run on the numbers its kernels read in the capture, gives the capture's result exactly."""
    from .codegen import values_of

    shape = tuple(group.root.out.shape)
    namespace = {"math": math, "inf": math.inf, "nan": math.nan}
    exec(loop_source(group, "loop"), namespace)
    try:
        got = namespace["loop"](*(values_of(leaf.seen if leaf.seen is not None else leaf.array, shape)
                                  for leaf in group.leaves))
    except FAILURES:
        return group.raises          # the kernels one by one take over for such numbers
    want = values_of(group.root.out, shape)
    return len(got) == len(want) and all(map(_same_number, got, want))


def _final_sources(program: Program) -> list:
    sources = [s for _, _, s in program.writes if s is not None]
    sources += [value for _, value in program.states]
    return sources + _result_sources(program.result)
