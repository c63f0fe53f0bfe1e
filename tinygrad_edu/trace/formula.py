"""An op's formula with the names of one step put in: str.format with the op's own symbols, no regular expressions.

An op states its math once, in two class attributes written with ``str.format`` fields named by
its symbols (see ``ops.py``)::

    formula    = "{Z} = {X} @ {Y}"
    derivative = "∂L/∂{X} = ∂L/∂{Z} @ {Y:T};  ∂L/∂{Y} = {X:T} @ ∂L/∂{Z}"

* the output's symbol is the field left of "=" in ``formula``;
* the inputs' symbols are the names of ``forward``'s parameters after ``ctx``, in order (a
  ``*xs`` parameter stands for all the remaining inputs);
* ``forward``'s other parameters are options (``exponent``, ``dims``, ``shape`` ...), bound to the
  values the step ran with;
* the spec ``:T`` means "the transpose of": ``W.T`` transposed is ``W``, any other name ``N`` is ``Nᵀ``;
* ``derivative`` has one clause per input, separated by ";"; the clause of input ``x`` is the one
  that starts with the field ``{x}`` (its left side is ∂L/∂{x}), so the clauses of inputs that
  got no gradient can be left out.

Formatting with no names prints each symbol as itself (``Z = X @ Y``). An op without a ``formula``
(a student's first try) gets one made from its name and parameters, ``{out} = Cube({x})``, so it
too appears with the tensors' names; text without fields is shown as it is. Nothing here imports
Rich or the engine: the recorder calls `op_symbols` once per op it records, the events call `bind`.
"""
from __future__ import annotations

import inspect
import math
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

__all__ = ["OpSymbols", "op_symbols", "statement", "fields", "output_symbol", "right_side", "bind", "keep_clauses",
           "transposed", "describe", "index_fields", "TRANSPOSE_SUFFIX"]

TRANSPOSE_SUFFIX = ".T"       # how the code spells a transpose, and so how the trace names one
CLAUSE_SEPARATOR = ";"
_FORMATTER = string.Formatter()


def transposed(name: str) -> str:
    """The name of the transpose of ``name``: ``W.T`` for ``W`` read back is ``W``, else ``Nᵀ``."""
    if name.endswith(TRANSPOSE_SUFFIX):
        return name[:-len(TRANSPOSE_SUFFIX)]
    return name + "ᵀ"


@dataclass(frozen=True)
class OpSymbols:
    """What ``forward``'s signature says: its parameters after ``ctx``, with their defaults.

    The first parameters take the inputs (a ``*xs`` parameter, ``variadic``, takes all the rest);
    every parameter left over is an option. ``inspect.Parameter.empty`` marks "no default".
    """

    positional: tuple[tuple[str, Any], ...] = ()
    variadic: str | None = None
    keyword: tuple[tuple[str, Any], ...] = ()

    def for_inputs(self, count: int) -> tuple[str, ...]:
        """The symbol of each of ``count`` inputs (the variadic one repeats; extra ones are ``input3`` ...)."""
        symbols = [name for name, _ in self.positional[:count]]
        while len(symbols) < count:
            symbols.append(self.variadic or f"input{len(symbols) + 1}")
        return tuple(symbols)

    def options(self, count: int) -> dict[str, Any]:
        """The option parameters when ``count`` inputs were given, each with its default."""
        left = () if self.variadic else self.positional[count:]
        return dict(left + self.keyword)


@lru_cache(maxsize=None)
def op_symbols(fn_type: type) -> OpSymbols:
    """Read the symbols off ``fn_type.forward``'s parameters (cached: one signature per op class)."""
    try:
        parameters = list(inspect.signature(fn_type.forward).parameters.values())[1:]   # after ctx
    except (TypeError, ValueError):
        return OpSymbols()
    positional, variadic, keyword = [], None, []
    for parameter in parameters:
        if parameter.kind == parameter.VAR_POSITIONAL:
            variadic = parameter.name
        elif parameter.kind == parameter.KEYWORD_ONLY:
            keyword.append((parameter.name, parameter.default))
        elif parameter.kind != parameter.VAR_KEYWORD:
            positional.append((parameter.name, parameter.default))
    return OpSymbols(tuple(positional), variadic, tuple(keyword))


def statement(fn_type: type, n_inputs: int) -> tuple[str, str]:
    """The op's ``formula`` and ``derivative``; made from its name and symbols when it states none.

    The made-up ones say only what is known (``{out} = Cube({x})``, and that backward turned
    ∂L/∂out into ∂L/∂x), in the same form, so the trace binds names into them like any other.
    """
    formula = getattr(fn_type, "formula", "") or ""
    derivative = getattr(fn_type, "derivative", "") or ""
    if formula and derivative:
        return formula, derivative
    inputs = list(dict.fromkeys(op_symbols(fn_type).for_inputs(n_inputs)))
    out = output_symbol(formula) or next(s for s in ("out", "result", "output") if s not in inputs)
    name = fn_type.__name__
    if not formula:
        formula = f"{{{out}}} = {name}(" + ", ".join(f"{{{s}}}" for s in inputs) + ")"
    if not derivative:
        derivative = f"{CLAUSE_SEPARATOR}  ".join(
            f"∂L/∂{{{s}}} from ∂L/∂{{{out}}} by {name}.backward" for s in inputs)
    return formula, derivative


def _fields(template: str):
    """``string.Formatter``'s reading of a template: (literal text, field name, spec, conversion)."""
    return list(_FORMATTER.parse(template))


def fields(template: str) -> set[str]:
    """The names of the fields in ``template`` (empty for plain text)."""
    try:
        return {name for _, name, _, _ in _fields(template) if name}
    except ValueError:
        return set()


def output_symbol(formula: str) -> str | None:
    """The field left of the first "=" (``z`` in ``{z} = {x} ⊙ {y}``); None when there is none."""
    try:
        parts = _fields(formula)
    except ValueError:              # a lone "{" or "}": plain text, not a template
        return None
    last = None
    for literal, name, _spec, _conversion in parts:
        if "=" in literal:
            return last
        if name:
            last = name
    return None


def right_side(formula: str) -> str | None:
    """What the output is set to: ``{x} @ {Y}`` for ``{Z} = {x} @ {Y}``; None unless the formula starts
    with its output's field and "=" (then it is one statement, not prose)."""
    out = output_symbol(formula)
    head = "{" + str(out) + "}"
    stripped = formula.lstrip()
    if out is None or not stripped.startswith(head) or not stripped[len(head):].lstrip().startswith("="):
        return None
    return stripped[len(head):].lstrip()[1:].lstrip()


class _Bound:
    """One symbol's text in a formula; ``:T`` asks for its transpose."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        if spec == "T":
            return transposed(self.text)
        try:
            return format(self.text, spec)
        except ValueError:
            return self.text


class _Names(dict):
    """symbol -> text; a symbol the step does not know prints as itself."""

    def __missing__(self, symbol: str) -> _Bound:
        return _Bound(symbol)


def bind(template: str, names: Mapping[str, str] | None = None) -> str:
    """``template`` with each ``{symbol}`` replaced by ``names[symbol]`` (or the symbol itself).

    A template that is not made of symbols (a stray brace, ``{x.attr}``, ``{x | x > 0}``) is plain
    text and is returned as it is.
    """
    try:
        if not all(name.isidentifier() for _, name, _, _ in _fields(template) if name is not None):
            return template
    except ValueError:
        return template
    return template.format_map(_Names({symbol: _Bound(text) for symbol, text in (names or {}).items()}))


def keep_clauses(derivative: str, silent: set[str]) -> str:
    """The derivative without the clauses whose first field is one of the ``silent`` inputs' symbols.

    Clauses are separated by ";"; the clause of input ``x`` starts (after ``∂L/∂``) with ``{x}``.
    All clauses are kept when leaving some out would leave none.
    """
    if not silent or CLAUSE_SEPARATOR not in derivative:
        return derivative
    kept = []
    for clause in derivative.split(CLAUSE_SEPARATOR):
        try:
            first = next((name for _, name, _, _ in _fields(clause) if name), None)
        except ValueError:
            first = None
        if first not in silent:
            kept.append(clause.strip())
    return f"{CLAUSE_SEPARATOR}  ".join(kept) if kept else derivative


def describe(value: Any, limit: int = 40, index: bool = False) -> str:
    """Short text for an option's value: ``2``, ``(0, 1)``, ``∞``, ``[3, 1, …]``.

    ``index`` says the value is written between brackets (``x[{key}]``): a key is then written as the
    code writes an index, ``0`` and ``0:2, None`` rather than ``(0,)`` and ``(slice(0, 2), None)``.
    """
    if isinstance(value, slice):
        text = ":".join("" if part is None else str(part) for part in (value.start, value.stop))
        text = text + (f":{value.step}" if value.step not in (None, 1) else "")
    elif index and isinstance(value, tuple) and value:
        text = ", ".join(describe(part, limit) for part in value)
    elif isinstance(value, tuple) and any(isinstance(part, slice) for part in value):
        text = ", ".join(describe(part, limit) for part in value)
    elif value is Ellipsis:
        text = "..."
    elif isinstance(value, float) and math.isinf(value):
        text = "∞" if value > 0 else "−∞"
    else:
        if hasattr(value, "tolist") and not isinstance(value, (int, float)):
            value = value.tolist()
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def index_fields(template: str) -> set[str]:
    """The fields written between brackets, as an index is: ``key`` in ``{x}[{key}]``."""
    try:
        parts = _fields(template)
    except ValueError:
        return set()
    found = set()
    for (literal, name, _, _), (after, _, _, _) in zip(parts, parts[1:] + [("", None, None, None)]):
        if name and literal.endswith("[") and after.startswith("]"):
            found.add(name)
    return found
