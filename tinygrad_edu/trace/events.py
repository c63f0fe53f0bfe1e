"""Trace events: plain data, no Rich.

A tape is a list of events, one per thing that happened while recording:

* `ForwardEvent`  -- one op ran:            output = op(inputs)
* `BackwardEvent` -- one op's backward ran: ∂L/∂input_i from ∂L/∂output
* `UpdateEvent`   -- an optimizer changed one parameter: before, gradient, after

Every tensor that appears in an event is kept as a `Snapshot`: its name, shape and a *copy* of its
values, so a later optimizer step cannot rewrite history. Events know how to render themselves
with Rich (`__rich_console__`), but the Rich code lives in `render.py` and is imported only when an
event is actually drawn.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

__all__ = ["Snapshot", "Event", "ForwardEvent", "BackwardEvent", "UpdateEvent",
           "flatten", "unflatten", "PHASES"]

PHASES = ("forward", "backward", "update")


def flatten(nested: Any) -> list:
    """Row-major list of the scalars in a nested list (a bare number gives a one-element list)."""
    if not isinstance(nested, (list, tuple)):
        return [nested]
    flat: list = []
    stack = [iter(nested)]
    # An explicit stack rather than recursion: deep nesting must not hit the recursion limit.
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def unflatten(flat: Sequence, shape: tuple[int, ...]) -> Any:
    """Inverse of `flatten`: nested lists of the given shape (a number for shape ())."""
    if not shape:
        return flat[0]
    items = list(flat)
    for size in reversed(shape[1:]):
        items = [items[i:i + size] for i in range(0, len(items), size)]
    return items


@dataclass
class Snapshot:
    """One tensor (or one gradient) at one moment.

    ``values`` is flat, row-major; ``shape`` says how to read it. ``key`` identifies the tensor
    within the tape (the same key in two events means the same tensor object), and ``is_grad``
    says this is ∂L/∂(that tensor) rather than the tensor itself. ``projections`` holds, when the
    tape has a vocabulary of named directions and the last dimension matches it, one
    ``{direction: dot product}`` dict per vector (one for a 1-D tensor, one per row otherwise).
    """

    key: int
    name: str
    shape: tuple[int, ...]
    values: tuple
    dtype: str = "float64"
    requires_grad: bool = False
    is_leaf: bool = True
    is_grad: bool = False
    projections: tuple[dict[str, float], ...] | None = None

    @property
    def label(self) -> str:
        """What the student reads: ``h`` for a value, ``∂L/∂h`` for its gradient."""
        return f"∂L/∂{self.name}" if self.is_grad else self.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numel(self) -> int:
        return len(self.values)

    def tolist(self) -> Any:
        """The values as nested lists (a number for a 0-d tensor)."""
        return unflatten(self.values, self.shape)

    def _numbers(self) -> list[float]:
        return [float(v) for v in self.values]

    def min(self) -> float:
        return min(self._numbers())

    def max(self) -> float:
        return max(self._numbers())

    def mean(self) -> float:
        numbers = self._numbers()
        return math.fsum(numbers) / len(numbers)

    def zero_share(self) -> float:
        """The fraction of entries that are exactly 0 (what a ReLU switched off)."""
        return sum(1 for v in self.values if v == 0) / len(self.values)

    def projection(self, direction: str, vector: int = 0) -> float:
        """The dot product of vector ``vector`` (row; 0 for a 1-D tensor) with ``direction``."""
        if self.projections is None:
            raise KeyError(f"{self.label}: no projections recorded (shape {self.shape}; "
                           f"attach a Directions vocabulary whose dim equals the last dimension)")
        return self.projections[vector][direction]


def _substitute(text: str, mapping: dict[str, str]) -> str:
    """Replace whole-word symbols in a formula at once (so ``x -> y, y -> x`` does not chain)."""
    if not mapping:
        return text
    pattern = re.compile(r"(?<![A-Za-z0-9_.])(" + "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
                         + r")(?![A-Za-z0-9_])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def _uses_all(text: str, symbols: Sequence[str]) -> bool:
    return all(re.search(r"(?<![A-Za-z0-9_.])" + re.escape(s) + r"(?![A-Za-z0-9_])", text) for s in symbols)


@dataclass
class Event:
    """What every event has: its position on the tape, phase, op name and formula."""

    step: int
    op: str
    formula: str
    total: int = 0

    phase = "event"

    def snapshots(self) -> Iterator[Snapshot]:
        """Every tensor snapshot in this event (for naming and projections)."""
        return iter(())

    def _symbol_map(self) -> dict[str, str]:
        return {}

    def _formula_to_bind(self) -> str:
        return self.formula

    def bound_formula(self) -> str | None:
        """The formula with the op's own symbols replaced by this step's tensor names.

        ``z = x @ w`` becomes ``t3 = x @ block.up.weight``. None when the formula does not mention
        every symbol (then a partial substitution would mislead) or nothing would change.
        """
        mapping = self._symbol_map()
        if not mapping or not _uses_all(self.formula, list(mapping)):
            return None
        # (Wᵀ)ᵀ is W: say so rather than stacking the marks.
        bound = _substitute(self._formula_to_bind(), mapping).replace("ᵀᵀ", "")
        return None if bound == self.formula else bound

    def __rich_console__(self, console, options):
        from .render import render_event  # Rich is imported only when an event is drawn

        yield render_event(self)


@dataclass
class ForwardEvent(Event):
    """``output = op(*inputs, **params)`` ran once.

    ``symbols`` are the names the op's formula uses: one per input, then the output's.
    """

    inputs: tuple[Snapshot, ...] = ()
    output: Snapshot | None = None
    params: dict[str, str] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()

    phase = "forward"

    def snapshots(self) -> Iterator[Snapshot]:
        yield from self.inputs
        if self.output is not None:
            yield self.output

    def _symbol_map(self) -> dict[str, str]:
        return _bind_symbols(self.symbols, self.inputs, self.output)


def _bind_symbols(symbols, inputs, output) -> dict[str, str]:
    """The formula's letters (inputs first, then the output) -> the tensors' names; {} when they don't line up."""
    if len(symbols) != len(inputs) + 1 or output is None:
        return {}
    return dict(zip(symbols, [s.name for s in inputs] + [output.name]))


@dataclass
class BackwardEvent(Event):
    """The backward of one op ran: from ``grad_output`` = ∂L/∂output to one gradient per input.

    ``inputs`` and ``output`` are the forward values (for the shapes and the names);
    ``input_grads[i]`` is None where the op sends no gradient (an input that needs none).
    """

    inputs: tuple[Snapshot, ...] = ()
    output: Snapshot | None = None
    grad_output: Snapshot | None = None
    input_grads: tuple[Snapshot | None, ...] = ()
    symbols: tuple[str, ...] = ()

    phase = "backward"

    def _formula_to_bind(self) -> str:
        """The backward formula without the clauses for inputs that got no gradient (constants)."""
        if len(self.symbols) != len(self.inputs) + 1 or ";" not in self.formula:
            return self.formula
        silent = {f"∂L/∂{symbol}" for symbol, grad in zip(self.symbols, self.input_grads) if grad is None}
        clauses = [c.strip() for c in self.formula.split(";")]
        kept = [c for c in clauses if c.split("=", 1)[0].strip() not in silent]
        return ";  ".join(kept) if kept else self.formula

    def snapshots(self) -> Iterator[Snapshot]:
        yield from self.inputs
        for snap in (self.output, self.grad_output, *self.input_grads):
            if snap is not None:
                yield snap

    def _symbol_map(self) -> dict[str, str]:
        return _bind_symbols(self.symbols, self.inputs, self.output)


@dataclass
class UpdateEvent(Event):
    """An optimizer changed one parameter by its ``rule`` (kept in ``formula``), e.g. ``w ← w − lr·∂L/∂w``."""

    before: Snapshot | None = None
    grad: Snapshot | None = None
    after: Snapshot | None = None

    phase = "update"

    @property
    def rule(self) -> str:
        return self.formula

    @property
    def name(self) -> str:
        """The parameter's name (from the module tree when the tape knows it)."""
        return self.before.name if self.before is not None else ""

    def snapshots(self) -> Iterator[Snapshot]:
        for snap in (self.before, self.grad, self.after):
            if snap is not None:
                yield snap
