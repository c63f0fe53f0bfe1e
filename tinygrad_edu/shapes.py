"""Shape arithmetic shared by the backends, autograd and tensors: plain tuples and lists, no arrays.

* ``broadcast_shapes``   NumPy's broadcasting rule (``check_broadcast``: the same, as an op's error)
* ``stretched_axes``     the axes a broadcast added or stretched (the ones a gradient is summed over)
* ``reshaped``, ``check_expand``, ``matmul_shape``   the backends' checks of reshape, expand and matmul
* ``contiguous_strides`` row-major strides
* ``flatten`` / ``nest`` nested lists <-> (row-major values, shape)
"""
from __future__ import annotations

import math
import operator
from functools import lru_cache
from itertools import accumulate, chain

from .errors import ShapeError


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's rule: align on the right; each pair of sizes must be equal or contain a 1.

    Raises ``ValueError`` with the shapes; callers re-raise it naming their op.
    """
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded):
        size = 1                    # the one size other than 1 on this axis (0 too: (0,) and (1,) give (0,))
        for s in sizes:
            if s != 1:
                if size != 1 and s != size:
                    raise ValueError("shapes " + " and ".join(str(tuple(s)) for s in shapes) + " do not broadcast")
                size = s
        out.append(size)
    return tuple(out)


def check_broadcast(op: str, shapes) -> tuple:
    """``broadcast_shapes``, raising a ``ShapeError`` that names ``op`` when the shapes clash."""
    try:
        return broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                         "cannot be broadcast together") from None


def reshaped(size: int, shape: tuple) -> tuple:
    """``shape`` for an array of ``size`` elements, its one ``-1`` (if any) worked out; ``ValueError`` in
    NumPy's words when the element counts differ ("cannot reshape array of size 6 into shape (4,)")."""
    shape = tuple(shape)
    if -1 in shape and shape.count(-1) == 1:
        known = -math.prod(shape)
        if known > 0 and size % known == 0:
            shape = tuple(size // known if s == -1 else s for s in shape)
    if (shape and min(shape) < 0) or math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def check_expand(shape: tuple, target: tuple) -> None:
    """``ValueError`` unless ``shape`` broadcasts to ``target`` (each size equal, or 1 stretched; new axes in
    front): "cannot broadcast an array of shape (2,) to shape (2, 3)"."""
    lead = len(target) - len(shape)
    if lead < 0 or any(old != new and old != 1 for old, new in zip(shape, target[lead:])) \
            or any(size < 0 for size in target):
        raise ValueError(f"cannot broadcast an array of shape {tuple(shape)} to shape {tuple(target)}")


def matmul_shape(a: tuple, b: tuple) -> tuple:
    """The shape of ``a @ b`` under NumPy's rules: (…, n, k) @ (…, k, m) -> (…, n, m), the batch axes
    broadcast, a 1-D ``a`` a row and a 1-D ``b`` a column (their added axis dropped again). ``ValueError``
    naming both shapes when the inner sizes differ, an operand is 0-d or the batch axes clash."""
    if not a or not b:
        raise ValueError(f"matmul: shapes {tuple(a)} and {tuple(b)}: a 0-d array has no rows or columns")
    k_a, k_b = a[-1], b[0] if len(b) == 1 else b[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {tuple(a)} and {tuple(b)} do not fit: "
                         f"the inner sizes {k_a} and {k_b} differ")
    try:
        batch = broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ValueError(f"matmul: shapes {tuple(a)} and {tuple(b)}: the batch shapes {tuple(a[:-2])} and "
                         f"{tuple(b[:-2])} do not broadcast") from None
    return batch + a[-2:-1] + b[-1:] if len(b) > 1 else batch + a[-2:-1]


def stretched_axes(shape: tuple, target: tuple) -> tuple:
    """The axes of ``target`` that broadcasting ``shape`` to ``target`` added (leading ones) or stretched
    from size 1. Summing a ``target``-shaped gradient over them (keeping them) gives ``shape`` back."""
    lead = len(target) - len(shape)
    return tuple(range(lead)) + tuple(lead + d for d, size in enumerate(shape)
                                      if size == 1 and target[lead + d] != 1)


@lru_cache(maxsize=4096)     # a handful of shapes recur in every training step
def contiguous_strides(shape: tuple) -> tuple:
    """Row-major strides: the last axis moves by 1, each earlier one by the size of what follows it."""
    if not shape:
        return ()  # a 0-d array has no axes to step along
    return tuple(reversed(list(accumulate(reversed(shape[1:]), operator.mul, initial=1))))


_SEQUENCES = {list, tuple}       # the nestings ``flatten`` reads (their subclasses take the slow check)


def flatten(nested) -> tuple[list, tuple]:
    """Nested lists (or tuples) -> (the values in row-major order, the shape); a bare value has shape ().

    Read level by level, so a deep nesting needs no recursion, and each level with Python's own C loops
    (``map``, ``set``, ``chain``): a level is checked by the set of its items' types and lengths, and only a
    ragged one is walked item by item, to say where. Raises ``ValueError`` on a ragged nesting (sequences
    of different lengths at one depth, or numbers beside sequences)."""
    shape, level = [], [nested]
    while level and isinstance(level[0], (list, tuple)):
        size = len(level[0])
        if not set(map(type, level)) <= _SEQUENCES or set(map(len, level)) != {size}:
            for item in level:
                if not isinstance(item, (list, tuple)) or len(item) != size:
                    raise ValueError(f"ragged nested list: at depth {len(shape)} expected sequences of "
                                     f"length {size}, found {item!r}")
        shape.append(size)
        level = list(chain.from_iterable(level))
    if any(issubclass(kind, (list, tuple)) for kind in set(map(type, level))):
        x = next(x for x in level if isinstance(x, (list, tuple)))
        raise ValueError(f"ragged nested list: {x!r} sits beside numbers at depth {len(shape)}")
    return level, tuple(shape)


def nest(values, shape: tuple):
    """The inverse of ``flatten``: row-major ``values`` as nested lists of ``shape`` (a bare value for ())."""
    if not shape:
        return values[0]
    if 0 in shape:                          # (2, 0) is [[], []]; (0, 3) is []
        return [] if shape[0] == 0 else [nest(values, shape[1:]) for _ in range(shape[0])]
    items = list(values)
    for size in reversed(shape[1:]):
        items = [items[i:i + size] for i in range(0, len(items), size)]
    return items
