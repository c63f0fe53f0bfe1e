"""Trace events: plain data, no Rich.

A tape is a list of events, one per thing that happened while recording:

* `ForwardEvent`  -- one op ran:            output = op(inputs)
* `BackwardEvent` -- one op's backward ran: ∂L/∂input_i from ∂L/∂output
* `UpdateEvent`   -- an optimizer changed one parameter: before, gradient, after

Every tensor that appears in an event is kept as a `Snapshot`: its name, shape and a *copy* of its
values, so a later optimizer step cannot rewrite history. Events are plain data: `render.py` draws
them with Rich (``trace.panel(event)``, and in a notebook an event or a snapshot shows as its drawing);
nothing here imports Rich until something is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..shapes import nest
from .formula import bind, keep_clauses, right_side

__all__ = ["Snapshot", "Event", "ForwardEvent", "BackwardEvent", "UpdateEvent", "PHASES"]

PHASES = ("forward", "backward", "update")


@dataclass(repr=False)
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
        return nest(self.values, self.shape)

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

    def __repr__(self) -> str:
        from .._format import shape_text

        return f"<Snapshot {self.label} {shape_text(self.shape)} {self.dtype}>"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """In a notebook: the name, shape and coloured grid the trace draws for it."""
        from .._display import mimebundle
        from .render import tensor_block

        return mimebundle(tensor_block(self), include=include, exclude=exclude)

    def projection(self, direction: str, vector: int = 0) -> float:
        """The dot product of vector ``vector`` (row; 0 for a 1-D tensor) with ``direction``."""
        if self.projections is None:
            raise KeyError(f"{self.label}: no projections recorded (shape {self.shape}; "
                           f"attach a Directions vocabulary whose dim equals the last dimension)")
        return self.projections[vector][direction]


@dataclass(repr=False)
class Event:
    """What every event has: its position on the tape, phase, op name and formula (as the op states it)."""

    step: int
    op: str
    formula: str
    total: int = 0

    phase = "event"

    def snapshots(self) -> Iterator[Snapshot]:
        """Every tensor snapshot in this event (for naming and projections)."""
        return iter(())

    def plain_formula(self) -> str:
        """The formula with each symbol as itself: ``z = x ⊙ y``."""
        return bind(self.formula)

    def bound_formula(self) -> str | None:
        """The formula with this step's names put in (None when that changes nothing)."""
        return None

    def headline(self) -> str:
        """What happened, in one line: the formula with this step's names (see each phase)."""
        return self.bound_formula() or self.plain_formula()

    def __repr__(self) -> str:
        count = f" of {self.total}" if self.total else ""
        return f"<{type(self).__name__} step {self.step}{count} · {self.op} · {self.headline()}>"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """In a notebook: the step's panel, as ``trace.panel(event)`` draws it in a terminal."""
        from .._display import mimebundle
        from .render import render_event

        return mimebundle(render_event(self), include=include, exclude=exclude)


@dataclass(repr=False)
class _OpEvent(Event):
    """An op's forward or backward step: the forward values, and the symbols that name them.

    ``input_symbols`` holds the symbol of each input (``forward``'s parameter names; a ``*xs``
    parameter repeats), ``output_symbol`` the output's, ``options`` the text of every option value
    the step ran with (``exponent`` -> ``2``). See `formula.py` for how they are bound.
    """

    inputs: tuple[Snapshot, ...] = ()
    output: Snapshot | None = None
    input_symbols: tuple[str, ...] = ()
    output_symbol: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    def names(self) -> dict[str, str]:
        """symbol -> this step's text for it: the tensors' settled names and the options' values.

        Several inputs under one (variadic) symbol read ``(a, b)``.
        """
        grouped: dict[str, list[str]] = {}
        for symbol, snap in zip(self.input_symbols, self.inputs):
            grouped.setdefault(symbol, []).append(snap.name)
        names = {symbol: found[0] if len(found) == 1 else "(" + ", ".join(found) + ")"
                 for symbol, found in grouped.items()}
        if self.output_symbol and self.output is not None:
            names[self.output_symbol] = self.output.name
        return {**self.options, **names}

    def _template(self) -> str:
        return self.formula

    def bound_formula(self) -> str | None:
        """The formula with this step's names: ``{Z} = {X} @ {Y}`` reads ``t3 = x @ block.up.weight.T``."""
        bound = bind(self._template(), self.names())
        return None if bound == self.plain_formula() else bound


@dataclass(repr=False)
class ForwardEvent(_OpEvent):
    """``output = op(*inputs, **options)`` ran once.

    ``unstated`` holds the options the formula does not show and that differ from ``forward``'s
    defaults (shown beside it); ``about`` the first line of the docstring of an op that states no
    formula of its own.
    """

    unstated: dict[str, str] = field(default_factory=dict)
    about: str = ""

    phase = "forward"

    def snapshots(self) -> Iterator[Snapshot]:
        yield from self.inputs
        if self.output is not None:
            yield self.output

    def bound_value(self) -> str | None:
        """What the output was set to, with this step's names: ``x @ W.T`` for ``t1 = x @ W.T``
        (None when the formula is not one statement ``{out} = ...``)."""
        value = right_side(self.formula)
        return None if value is None else bind(value, self.names())


@dataclass(repr=False)
class BackwardEvent(_OpEvent):
    """The backward of one op ran: from ``grad_output`` = ∂L/∂output to one gradient per input.

    ``formula`` is the op's derivative; ``inputs`` and ``output`` are the forward values (for the
    shapes and the names); ``input_grads[i]`` is None where the op sends no gradient (an input that
    needs none), and its clause is then left out of the bound formula.
    """

    grad_output: Snapshot | None = None
    input_grads: tuple[Snapshot | None, ...] = ()

    phase = "backward"

    def _template(self) -> str:
        fed = {symbol for symbol, grad in zip(self.input_symbols, self.input_grads) if grad is not None}
        return keep_clauses(self.formula, set(self.input_symbols) - fed)

    def headline(self) -> str:
        """``∂L/∂h → ∂L/∂u``: which gradient came in, which went out."""
        sent = ", ".join(g.label for g in self.input_grads if g is not None) or "—"
        received = self.grad_output.label if self.grad_output is not None else "∂L/∂?"
        return f"{received} → {sent}"

    def snapshots(self) -> Iterator[Snapshot]:
        yield from self.inputs
        for snap in (self.output, self.grad_output, *self.input_grads):
            if snap is not None:
                yield snap


@dataclass(repr=False)
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

    def headline(self) -> str:
        """``block.up.weight: w ← w − 0.1·g``."""
        return f"{self.name}: {self.rule}"

    def snapshots(self) -> Iterator[Snapshot]:
        for snap in (self.before, self.grad, self.after):
            if snap is not None:
                yield snap
