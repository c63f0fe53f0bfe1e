"""Argument checks shared by the layers, the optimizers and the commands.

Each check returns the value in its plain Python form (an ``int`` or a ``float``) or raises one error
that names the function, the argument, what is allowed and what it got, e.g.

    SelfAttention: n_heads must be a positive integer, got -2

A value of the wrong kind (a string, None, a float where a count is needed) is a ``TypeError``; a
value of the right kind outside the allowed range is a ``ValueError``, as in PyTorch.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["integer", "number", "probability", "boolean"]


def integer(owner: str, name: str, value, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` (a float that is not whole, a bool or a string is refused)."""
    what = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be {what}, got {_show(value)}")
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif math.isfinite(value) and float(value).is_integer():
        value = int(value)
    else:
        raise TypeError(f"{owner}: {name} must be {what}, got {_show(value)}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be {what}, got {value}")
    return value


def number(owner: str, name: str, value, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """A real number (not NaN; finite unless ``finite=False``) within the bounds given.

    ``low_open``/``high_open`` exclude the bound itself: ``number(..., low=0, low_open=True)`` is "> 0".
    """
    what = _range_words(low, high, low_open, high_open, finite)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be {what}, got {_show(value)}")
    value = float(value)
    bad = (math.isnan(value) or (finite and math.isinf(value))
           or (low is not None and (value <= low if low_open else value < low))
           or (high is not None and (value >= high if high_open else value > high)))
    if bad:
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return value


def probability(owner: str, name: str, value) -> float:
    """A probability: a number in [0, 1]."""
    return number(owner, name, value, low=0.0, high=1.0)


def boolean(owner: str, name: str, value) -> bool:
    """True or False (1 and 0 are accepted too; strings such as "no" are refused, they would count as True)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{owner}: {name} must be True or False, got {_show(value)}")


def _range_words(low, high, low_open, high_open, finite) -> str:
    if low is not None and high is not None:
        return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    kind = "a finite number" if finite else "a number"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def _show(value) -> str:
    """How a refused value is shown: its repr, with the type for anything that is not a plain number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}" if not isinstance(value, (str, bool, type(None))) else text
