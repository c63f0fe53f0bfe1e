"""Hypothesis strategies for testing ops: shapes, tensors, matmul operands, safe values.

Property tests of gradients go wrong in two ways: at points where the function has no
derivative (a kink such as relu at 0, a tie in max, a pole such as 1/x at 0), and with
memory layouts the op's author never tried. These strategies avoid the first by
construction (margins and minimum gaps, never by filtering and hoping), and seek out the
second (non-contiguous tensors).

A student testing an op of their own::

    from hypothesis import given
    from tinygrad_edu.testing import gradcheck
    from tinygrad_edu.testing import strategies as tgst

    @given(tgst.tensors(elements=tgst.nonzero_floats(), requires_grad=True))
    def test_my_op(x):
        assert gradcheck(lambda t: MyOp.apply(t), x)
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

try:
    from hypothesis import strategies as st
except ImportError as error:  # hypothesis is a test-only dependency
    raise ImportError(
        "tinygrad_edu.testing.strategies needs hypothesis; "
        'install it with: pip install "tinygrad-edu[test]"') from error

from tinygrad_edu import Tensor

from tinygrad_edu.shapes import nest

__all__ = [
    "shapes", "broadcastable_shapes", "tensors", "distinct_tensors", "matmul_shapes",
    "matmul_pairs", "finite_floats", "floats_away_from", "nonzero_floats", "positive_floats",
    "unique_values", "make_tensor",
]

Shape = tuple[int, ...]

# ---------------------------------------------------------------- values


def finite_floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [low, high]: no NaN, no infinity."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def floats_away_from(points: Sequence[float] = (0.0,), margin: float = 0.1,
                     low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [low, high] with |x − p| >= margin for every p in points.

    For kinks: relu and abs at 0, clamp at its bounds. The allowed set is cut into
    intervals and one is picked, so every drawn value is valid.
    """
    cuts = sorted((p - margin, p + margin) for p in points)
    intervals = []
    start = low
    for cut_low, cut_high in cuts:
        if cut_low > start:
            intervals.append((start, min(cut_low, high)))
        start = max(start, cut_high)
    if start < high:
        intervals.append((start, high))
    intervals = [(a, b) for a, b in intervals if a < b]
    if not intervals:
        raise ValueError(f"floats_away_from: nothing in [{low}, {high}] is {margin} away "
                         f"from {list(points)}")
    return st.one_of([finite_floats(a, b) for a, b in intervals])


def nonzero_floats(margin: float = 0.1, high: float = 3.0) -> st.SearchStrategy[float]:
    """Floats with margin <= |x| <= high, either sign: away from the kink or pole at 0."""
    return floats_away_from((0.0,), margin, -high, high)


def positive_floats(low: float = 0.1, high: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [low, high] with low > 0: the domain of log and sqrt, away from the pole."""
    if low <= 0:
        raise ValueError(f"positive_floats: low must be > 0, got {low}")
    return finite_floats(low, high)


@st.composite
def unique_values(draw: Any, count: int, min_gap: float = 0.01, low: float = -3.0,
                  high: float = 3.0) -> list[float]:
    """``count`` floats in [low, high], every two at least ``min_gap`` apart (in random order).

    For ties: max, min, maximum and sort-like ops. Built on a grid of cells of width
    2·min_gap; each value gets a cell of its own and a jitter below min_gap inside it, so
    any two values stay at least min_gap apart.
    """
    cells = int((high - low) // (2 * min_gap))
    if cells < count:
        raise ValueError(f"unique_values: {count} values {min_gap} apart do not fit in "
                         f"[{low}, {high}]")
    chosen = draw(st.permutations(range(cells)))[:count]
    jitters = draw(st.lists(st.floats(0.0, min_gap, exclude_max=True), min_size=count,
                            max_size=count))
    return [low + 2 * min_gap * cell + jitter for cell, jitter in zip(chosen, jitters)]


# ---------------------------------------------------------------- shapes


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Shape tuples with min_dims..max_dims dimensions of size min_side..max_side."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw: Any, n: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> tuple[Shape, ...]:
    """``n`` shapes that broadcast together (NumPy rules).

    One full shape is drawn; each of the n shapes drops some of its leading dimensions and
    replaces some of the others by 1, which are the two ways broadcasting stretches a tensor.
    """
    full = draw(shapes(min_dims, max_dims, min_side, max_side))
    result = []
    for _ in range(n):
        dropped = draw(st.integers(0, len(full)))
        kept = full[dropped:]
        ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
        result.append(tuple(1 if one else side for side, one in zip(kept, ones)))
    return tuple(result)


@st.composite
def matmul_shapes(draw: Any, max_batch_dims: int = 2, min_side: int = 1,
                  max_side: int = 4) -> tuple[Shape, Shape]:
    """A pair of shapes valid for ``a @ b``: 1-D, 2-D and batched (batch dims broadcast).

    a is (k,), (n, k) or (*batch_a, n, k); b is (k,), (k, m) or (*batch_b, k, m).
    """
    n, k, m = (draw(st.integers(min_side, max_side)) for _ in range(3))
    kinds = ["1-D", "2-D"] + (["batched"] if max_batch_dims > 0 else [])
    kind_a, kind_b = draw(st.sampled_from(kinds)), draw(st.sampled_from(kinds))
    batch_a, batch_b = draw(broadcastable_shapes(2, 1, max(max_batch_dims, 1), min_side,
                                                 max_side))
    shape_a = {"1-D": (k,), "2-D": (n, k), "batched": batch_a + (n, k)}[kind_a]
    shape_b = {"1-D": (k,), "2-D": (k, m), "batched": batch_b + (k, m)}[kind_b]
    return shape_a, shape_b


# ---------------------------------------------------------------- tensors


def _permuted_layout(values: list[Any], shape: Shape, order: Sequence[int],
                     dtype: Any = None) -> Tensor:
    """A tensor equal to ``values``/``shape`` but stored with its dimensions in ``order``.

    The storage holds the data of ``x.permute(*order)`` contiguously; permuting it back
    gives a view whose strides are not the row-major ones.
    """
    stored_shape = tuple(shape[d] for d in order)
    row_major_strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    stored = []
    for stored_index in itertools.product(*(range(side) for side in stored_shape)):
        # stored_index[k] is the index along original dimension order[k]
        stored.append(values[sum(stored_index[k] * row_major_strides[order[k]]
                                 for k in range(len(order)))])
    base = Tensor(nest(stored, stored_shape), dtype=dtype)
    back = [0] * len(order)
    for k, d in enumerate(order):
        back[d] = k
    return base.permute(*back)


def _strided_layout(values: list[Any], shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor equal to ``values``/``shape`` whose last axis reads every other stored element.

    The gaps hold NaN (or a huge integer), so an op that reads them shows it at once.
    """
    is_int = dtype is not None and "int" in str(dtype)
    filler = -(10 ** 9) if is_int else math.nan
    padded = []
    for v in values:
        padded += [v, filler]
    stored_shape = shape[:-1] + (2 * shape[-1],)
    base = Tensor(nest(padded, stored_shape), dtype=dtype)
    return base[(slice(None),) * (len(shape) - 1) + (slice(None, None, 2),)]


def make_tensor(values: list[Any], shape: Shape, *, layout: Any = None,
                requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Build a leaf tensor of ``shape`` from row-major ``values``.

    ``layout`` None gives a contiguous tensor; a tuple of dims stores the data permuted in
    that order and permutes it back; "strided" stores the last axis at every other position.
    """
    if layout is None:
        t = Tensor(nest(list(values), shape), dtype=dtype)
    elif layout == "strided":
        t = _strided_layout(list(values), shape, dtype)
    else:
        t = _permuted_layout(list(values), shape, layout, dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


@st.composite
def _layouts(draw: Any, shape: Shape, noncontiguous: bool | None) -> Any:
    """Draw a layout for ``make_tensor``: None (contiguous) or one with non-row-major strides.

    A permutation changes the strides only if it reorders axes longer than 1, so it is
    used when there are two such axes; otherwise the last axis is strided.
    """
    if noncontiguous is None:
        noncontiguous = draw(st.booleans())
    if not noncontiguous or not shape:
        return None  # a 0-d tensor has no strides to vary
    long_axes = [d for d, side in enumerate(shape) if side > 1]
    if len(long_axes) < 2:
        return "strided"
    order = list(draw(st.permutations(range(len(shape)))))
    kept = [d for d in order if d in long_axes]
    if kept == sorted(kept):
        order.reverse()  # the long axes were left in order: reversing swaps them
    return tuple(order)


@st.composite
def tensors(draw: Any, shape: Shape | st.SearchStrategy[Shape] | None = None,
            elements: st.SearchStrategy[Any] | None = None, *, low: float = -3.0,
            high: float = 3.0, unique: bool = False, min_gap: float = 0.01,
            noncontiguous: bool | None = None, requires_grad: bool = False,
            dtype: Any = None) -> Tensor:
    """A Tensor of ``shape`` (a tuple, a strategy, or None for ``shapes()``).

    Values come from ``elements`` (default: floats in [low, high]); with ``unique=True``
    they are instead all at least ``min_gap`` apart, within [low, high]. ``noncontiguous``
    True stores the data permuted and permutes it back (or, with fewer than two axes
    longer than 1, strides the last axis over every other stored element), False gives a contiguous tensor, None lets hypothesis choose. With
    ``requires_grad`` the result is a leaf that requires grad, whatever its layout.
    """
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = tuple(shape)
    count = math.prod(shape)
    if unique:
        values = draw(unique_values(count, min_gap, low, high))
    else:
        if elements is None:
            is_int = dtype is not None and "int" in str(dtype)
            elements = st.integers(int(low), int(high)) if is_int else finite_floats(low, high)
        values = draw(st.lists(elements, min_size=count, max_size=count))
    layout = draw(_layouts(shape, noncontiguous))
    return make_tensor(values, shape, layout=layout, requires_grad=requires_grad, dtype=dtype)


@st.composite
def distinct_tensors(draw: Any, *shapes_: Shape, min_gap: float = 0.01, low: float = -3.0,
                     high: float = 3.0, noncontiguous: bool | None = None,
                     requires_grad: bool = False) -> tuple[Tensor, ...]:
    """Tensors of the given shapes whose values, all together, are ``min_gap`` apart.

    For binary ops with a tie at a == b (maximum, minimum): no element of one tensor comes
    near any element of another, whatever the broadcasting pairs up.
    """
    counts = [math.prod(s) for s in shapes_]
    values = draw(unique_values(sum(counts), min_gap, low, high))
    result, start = [], 0
    for shape, count in zip(shapes_, counts):
        layout = draw(_layouts(tuple(shape), noncontiguous))
        result.append(make_tensor(values[start:start + count], tuple(shape), layout=layout,
                                  requires_grad=requires_grad))
        start += count
    return tuple(result)


@st.composite
def matmul_pairs(draw: Any, max_batch_dims: int = 2, min_side: int = 1, max_side: int = 4,
                 elements: st.SearchStrategy[float] | None = None,
                 noncontiguous: bool | None = None,
                 requires_grad: bool = False) -> tuple[Tensor, Tensor]:
    """Two tensors a, b with ``a @ b`` defined (shapes from ``matmul_shapes``)."""
    shape_a, shape_b = draw(matmul_shapes(max_batch_dims, min_side, max_side))
    a = draw(tensors(shape_a, elements, noncontiguous=noncontiguous,
                     requires_grad=requires_grad))
    b = draw(tensors(shape_b, elements, noncontiguous=noncontiguous,
                     requires_grad=requires_grad))
    return a, b
