"""Lowering (NumPy backend): each kernel as the NumPy call the backend makes inside it.

A NumPy-backend array is a thin wrapper around one ndarray (its ``a``), and each of its kernels is one or
two NumPy calls plus a new wrapper. A replay needs no wrappers in between: it can call NumPy on the
ndarrays directly and wrap only what Python gets to see (the parameters' data, the gradients, the result).

Each translation is checked on the numbers of the capture: run on the kernel's captured inputs, it must
give the backend's own result exactly (shape, strides, dtype and every byte). A kernel whose translation
does not match, or that has none here (the ones the backend computes with its warnings silenced: exp,
log, ÷ by an array ...), is called through the backend as before.
"""
from __future__ import annotations

from ..backend import is_array

_OPERATORS = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__lt__": "<", "__le__": "<=", "__gt__": ">",
              "__ge__": ">=", "__eq__": "==", "__ne__": "!="}
_REFLECTED = {"__radd__": "+", "__rsub__": "-", "__rmul__": "*"}


def lower(program) -> None:
    """Mark each NumPy-backend kernel of the program whose translation matches: it runs as bare NumPy."""
    for step in program.steps:
        if getattr(step, "kind", "") in ("kernel", "view"):
            text = translation(step)
            if text is not None and matches(step, text):
                step.lowered = text
                step.value.raw = True


def translation(kernel) -> str | None:
    """The kernel as NumPy source with ``{0}``, ``{1}`` ... for its array operands' ndarrays, or None."""
    name, args = kernel.name, kernel.args
    if getattr(kernel.backend, "name", "") != "numpy" or kernel.receiver is None or kernel.identity:
        return None
    operands, n = [], 0
    for value in kernel.operands():
        if is_array(value):
            operands.append(f"{{{n}}}")
            n += 1
        elif type(value) in (int, float, bool):
            operands.append(_number(value))
        else:
            operands.append(None)
    if name in _OPERATORS and operands[1] is not None:
        return f"{operands[0]} {_OPERATORS[name]} {operands[1]}"
    if name in _REFLECTED and operands[1] is not None:
        return f"{operands[1]} {_REFLECTED[name]} {operands[0]}"
    if name == "__neg__":
        return f"-{operands[0]}"
    if name == "__truediv__" and type(args[0]) in (int, float) and args[0] != 0:
        return f"np.true_divide({operands[0]}, {operands[1]})"
    if name == "relu":
        return f"np.fmax({operands[0]}, np.{kernel.receiver.dtype}(0))"
    if name in ("maximum", "minimum") and operands[1] is not None:
        return f"np.{name}({operands[0]}, {operands[1]})"
    if name in ("abs", "sign"):
        return f"np.{name}({operands[0]})"
    if name == "where" and None not in operands:
        x, y = (o if is_array(v) else f"np.float64({o})" for o, v in zip(operands[1:], args))
        return f"np.where({operands[0]}, {x}, {y})"
    if name == "sum":
        axes, keepdim = _reduction(kernel)
        dtype = "np.float64" if kernel.receiver.dtype == "float64" else "np.int64"
        return f"np.asarray({operands[0]}.sum(axis={axes!r}, dtype={dtype}, keepdims={keepdim!r}))"
    if name == "max":
        axes, keepdim = _reduction(kernel)
        return f"np.asarray({operands[0]}.max(axis={axes!r}, keepdims={keepdim!r}))"
    if name == "matmul":
        a, b = kernel.receiver.a, args[0].a
        if a.ndim == 2 and b.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous:
            return f"np.matmul({operands[1]}.T, {operands[0]}.T).T"      # the backend's layout-keeping form
        return f"np.matmul({operands[0]}, {operands[1]})"
    if name == "permute":
        return f"{operands[0]}.transpose({_value(args[0])})"
    if name == "reshape":
        return f"{operands[0]}.reshape({_value(args[0])})"
    if name == "expand":
        return f"np.broadcast_to({operands[0]}, {_value(args[0])})"
    if name == "__getitem__" and isinstance(args[0], tuple):
        return f"{operands[0]}[{_key(args[0])}]"
    if name == "contiguous":
        return f"np.ascontiguousarray({operands[0]})"
    return None


def matches(kernel, text: str) -> bool:
    """Whether the translation, run on the kernel's captured inputs, gives exactly the backend's result."""
    import numpy as np

    arrays = [v.a for v in kernel.operands() if is_array(v)]
    try:
        got = eval(text.format(*(f"_x{i}" for i in range(len(arrays)))),
                   {"np": np, **{f"_x{i}": a for i, a in enumerate(arrays)}})
    except Exception:
        return False
    want = kernel.out.a
    return (isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == want.dtype
            and got.strides == want.strides and got.tobytes() == want.tobytes())


def _reduction(kernel) -> tuple:
    values = list(kernel.args) + [kernel.kwargs.get(k) for k in ("axes", "keepdim") if k in kernel.kwargs]
    axes = values[0] if values else None
    keepdim = values[1] if len(values) > 1 else False
    return (tuple(axes) if axes is not None else None), bool(keepdim)


def _number(value) -> str:
    if isinstance(value, float) and value != value:
        return "np.nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "np.inf" if value > 0 else "(-np.inf)"
    return repr(value)


def _value(value) -> str:
    return repr(tuple(value)) if isinstance(value, (tuple, list)) else repr(value)


def _key(key: tuple) -> str:
    def part(item):
        if isinstance(item, slice):
            text = ":".join("" if v is None else repr(v) for v in (item.start, item.stop))
            return text + (f":{item.step!r}" if item.step is not None else "")
        return repr(item)

    if not key:
        return "()"
    parts = [part(item) for item in key]
    return ", ".join(parts) + ("," if len(parts) == 1 else "")
