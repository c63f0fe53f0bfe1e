"""The pure-Python backend: a flat list, a shape, strides and an offset.

An ``Array`` never knows about autograd. It is the numbers and the few kernels every op is built from:

* ``_map``     one function applied to every element         (exp, log, relu, ...)
* ``_zip``     one function applied to pairs of elements     (+, *, maximum, ...), with broadcasting
* ``_reduce``  a function applied to groups of elements      (sum, max, argmax over some axes)
* ``matmul``   rows against columns
* views        ``permute``, ``expand``, ``__getitem__`` and contiguous ``reshape`` change only
               shape, strides and offset: no element is copied.

Element ``(i0, i1, ..., ik)`` of an array lives at
``storage[offset + i0*strides[0] + i1*strides[1] + ... + ik*strides[k]]``.
A transpose swaps two strides; an expand sets a stride to 0, so one stored number is seen many times.

The hot loops use Python's own fast tools (``map``, ``zip``, ``sum``, list comprehensions and list
slicing) on the elements laid out in row-major order; ``flat()`` gives that order for any view, one
slice of the storage per row, so even a transposed view is read without an index sum per element.
"""
from __future__ import annotations

import math
import operator
from itertools import product, repeat

from ..shapes import broadcast_shapes, check_expand, contiguous_strides, matmul_shape, nest, reshaped

name = "python"

FLOAT64, INT64, BOOL = "float64", "int64", "bool"
_RANK = {BOOL: 0, INT64: 1, FLOAT64: 2}
_CAST = {FLOAT64: float, INT64: int, BOOL: bool}
_ZERO = {FLOAT64: 0.0, INT64: 0, BOOL: False}


def promote(a: str, b: str) -> str:
    """The dtype of a result of two inputs: bool < int64 < float64."""
    return a if _RANK[a] >= _RANK[b] else b


def _sigmoid(x: float) -> float:
    # Two forms, so that exp never overflows: for x < 0, exp(x) is small.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x):
    return (x > 0) - (x < 0)


def _float_sign(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0        # 0 for ±0 and for a nan


def _log(x):
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _is_odd_integer(b) -> bool:
    return b % 2 == 1 if isinstance(b, int) else (math.isfinite(b) and b.is_integer() and b % 2 == 1)


def _pow(a, b):
    """IEEE ``pow`` where ``math.pow`` raises: an overflow is ±∞ (−∞ for a negative base and an odd integer
    exponent: (−1e308)³ = −∞); 0 to a negative power is ±∞ (−0 to an odd one keeps the sign:
    (−0)⁻¹ = −∞); a negative base to a fractional power is nan."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if a < 0 and _is_odd_integer(b) else math.inf
    except ValueError:
        if a == 0:
            return math.copysign(math.inf, a) if _is_odd_integer(b) else math.inf
        return math.nan


def _maximum(a, b):
    # Python's max(a, b) keeps a when b is nan and compares in order; a nan on either side wins, as in
    # NumPy and PyTorch.
    return a if a > b or a != a else b


def _minimum(a, b):
    return a if a < b or a != a else b


def _has_nan(group) -> bool:
    """Whether a list of floats holds a nan. Its sum is nan only then (or when it holds both ∞ and −∞), so
    the element-by-element look happens only for such groups."""
    total = sum(group)
    return total != total and any(v != v for v in group)


def _nanmax(group):
    """The largest element; nan when there is one, wherever it stands (``max`` alone depends on the order)."""
    return math.nan if _has_nan(group) else max(group)


def _nanargmax(group) -> int:
    """The index of the first largest element; of the first nan when there is one (as NumPy and PyTorch)."""
    if _has_nan(group):
        return next(i for i, v in enumerate(group) if v != v)
    return group.index(max(group))


# int64 arithmetic wraps around, as NumPy and PyTorch do (Python's own ints would just grow).
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
_INT64_SPAN = 2 ** 64


def _wrap_int64(values: list) -> list:
    """The values taken modulo 2⁶⁴ into [−2⁶³, 2⁶³): a copy only when some value left the range."""
    if values and (max(values) > INT64_MAX or min(values) < INT64_MIN):
        return [(v - INT64_MIN) % _INT64_SPAN + INT64_MIN for v in values]
    return values


def check_int64(values) -> None:
    """Raise ``OverflowError`` (NumPy's words) for a Python int that does not fit in int64."""
    for v in values:
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError(f"Python integer {v} out of bounds for int64")


_ARITHMETIC = frozenset((operator.add, operator.sub, operator.mul))


def _integer_arithmetic(out, fn) -> None:
    """NumPy's rules for ``+``, ``-``, ``*`` of bools and ints, applied to a result computed with Python's:
    bool with bool stays bool (``+`` is "or", ``*`` is "and"), ``-`` between two bools is refused, int64
    wraps around on overflow."""
    if out.dtype == BOOL:
        if fn is operator.sub:
            raise TypeError(BOOL_SUBTRACT)
        out.storage = list(map(bool, out.storage))
    else:
        out.storage = _wrap_int64(out.storage)


BOOL_NEGATIVE = ("the - operator is not supported on bool arrays (negating a mask); to invert a mask "
                 "compare it with False (mask == False), to negate numbers convert them first (.long(), .float())")
BOOL_SUBTRACT = ("the - operator is not supported between two bool arrays; for the elements where exactly "
                 "one is true use a != b, to subtract numbers convert them first (.long(), .float())")


def to_int64(values: list) -> list:
    """Float values as int64 (truncated toward 0, as NumPy); nan, ±∞ and values beyond int64's range are
    refused with one message on both backends (NumPy would give −2⁶³ and a warning)."""
    out = []
    for v in values:
        if not -9.223372036854775808e18 <= v < 9.223372036854775808e18:
            raise ValueError(f"cannot convert {v!r} to int64: only finite values within ±2⁶³ convert")
        out.append(int(v))
    return out


class Array:
    """An n-dimensional view of a flat Python list."""

    __slots__ = ("storage", "shape", "strides", "offset", "dtype")

    def __init__(self, storage: list, shape: tuple, strides: tuple | None = None, offset: int = 0,
                 dtype: str = FLOAT64):
        self.storage = storage
        self.shape = tuple(shape)
        self.strides = contiguous_strides(self.shape) if strides is None else tuple(strides)
        self.offset = offset
        self.dtype = dtype

    # ---- layout -------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def is_contiguous(self) -> bool:
        """True when the elements sit in row-major order, one after another, in the storage."""
        if self.strides == contiguous_strides(self.shape):
            return True
        expected = 1        # the strides of size-1 axes do not matter: no step is ever taken along them
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def _positions(self) -> list:
        """Storage index of every element, in row-major order.

        Built axis by axis: start from [offset]; for each axis, every position so far is followed by
        its ``size`` neighbours ``stride`` apart.
        """
        positions = [self.offset]
        for size, stride in zip(self.shape, self.strides):
            steps = [k * stride for k in range(size)]
            positions = [p + s for p in positions for s in steps]
        return positions

    def _row_starts(self) -> list:
        """Storage index of the first element of every row (every position of the axes but the last)."""
        leading = Array(self.storage, self.shape[:-1], self.strides[:-1], self.offset, self.dtype)
        return leading._positions()

    def _values(self) -> list:
        """The elements in row-major order, to read and never to write: the storage list itself when it
        holds exactly this array (no copy), otherwise a new list.

        A contiguous view is one slice. Any other view is read one row at a time: a row is the
        extended slice ``storage[start : start + length*step : step]``, so Python's C code walks it,
        however the axes were permuted or sliced."""
        storage, n = self.storage, self.size
        if self.is_contiguous():
            if self.offset == 0 and len(storage) == n:
                return storage
            return storage[self.offset:self.offset + n]
        if n == 0:
            return []
        # A broadcast along leading axes (a bias added to every row of a batch): one block, repeated.
        if self.strides[0] == 0:
            lead = 1
            while lead < self.ndim and self.strides[lead] == 0:
                lead += 1
            inner = Array(storage, self.shape[lead:], self.strides[lead:], self.offset, self.dtype)
            return inner._values() * math.prod(self.shape[:lead])
        length, step = self.shape[-1], self.strides[-1]
        out = []
        if step == 0:                           # a broadcast along the last axis: each number repeated
            for start in self._row_starts():
                out += [storage[start]] * length
        else:
            stop = length * step
            for start in self._row_starts():
                out += storage[start:start + stop:step]
        return out

    def flat(self) -> list:
        """The elements in row-major order (a new list the caller may keep, never the storage itself)."""
        values = self._values()
        return values[:] if values is self.storage else values

    def _rows(self) -> list:
        """The rows of a 2-D view as lists: each one slice of the storage (strided when the view is)."""
        (count, length), (row_stride, step) = self.shape, self.strides
        storage = self.storage
        starts = [self.offset + i * row_stride for i in range(count)]
        if step == 0:
            return [[storage[start]] * length for start in starts]
        stop = length * step
        return [storage[start:start + stop:step] for start in starts]

    def contiguous(self) -> "Array":
        return Array(self.flat(), self.shape, None, 0, self.dtype)

    # ---- creation -------------------------------------------------------------------------
    def _new(self, values: list, dtype: str | None = None, shape: tuple | None = None) -> "Array":
        return Array(values, self.shape if shape is None else shape, None, 0, dtype or self.dtype)

    def astype(self, dtype: str) -> "Array":
        if dtype == self.dtype:
            return self
        if dtype == INT64 and self.dtype == FLOAT64:
            return self._new(to_int64(self._values()), dtype)
        return self._new(list(map(_CAST[dtype], self._values())), dtype)

    def tolist(self):
        return nest(self._values(), self.shape)

    def item(self):
        return self.storage[self.offset]        # the first element: [0, 0, ...] sits at the offset

    def __repr__(self) -> str:
        return f"Array(shape={self.shape}, strides={self.strides}, offset={self.offset}, dtype={self.dtype})"

    # ---- the kernels ------------------------------------------------------------------------
    def _map(self, fn, dtype: str = FLOAT64) -> "Array":
        """out[i] = fn(self[i]) for every element."""
        return self._new(list(map(fn, self._values())), dtype)

    def _zip(self, fn, other, dtype: str | None = None, reflected: bool = False) -> "Array":
        """out[i] = fn(self[i], other[i]), broadcasting ``other`` (an Array or a number) to a common shape.

        ``reflected`` swaps the operands, out[i] = fn(other[i], self[i]), for ``2 - x`` and friends.

        ``+``, ``-`` and ``*`` of bools and ints follow NumPy's integer rules (``_integer_arithmetic``)."""
        if not isinstance(other, Array):
            other_dtype = FLOAT64 if isinstance(other, float) else (BOOL if isinstance(other, bool) else INT64)
            dtype = dtype or promote(self.dtype, other_dtype)
            if other_dtype == INT64 and dtype == INT64 and not INT64_MIN <= other <= INT64_MAX:
                check_int64((other,))
            left, right = self._values(), repeat(other)
            out = self._new(list(map(fn, right, left) if reflected else map(fn, left, right)), dtype)
        else:
            dtype = dtype or promote(self.dtype, other.dtype)
            a, b = self, other
            if a.shape != b.shape:
                shape = broadcast_shapes(a.shape, b.shape)
                a, b = a.expand(shape), b.expand(shape)
            left, right = a._values(), b._values()
            out = a._new(list(map(fn, right, left) if reflected else map(fn, left, right)), dtype)
        if dtype != FLOAT64 and fn in _ARITHMETIC:
            _integer_arithmetic(out, fn)
        return out

    def _divide(self, other, reflected: bool = False) -> "Array":
        """Division at C speed; only when some divisor is 0 does each element go through ``_div``."""
        try:
            return self._zip(operator.truediv, other, FLOAT64, reflected)
        except ZeroDivisionError:
            return self._zip(_div, other, FLOAT64, reflected)

    def _power(self, other, reflected: bool = False) -> "Array":
        """Powers at C speed (``math.pow``: always a float); only when one fails (an overflow, 0 to a
        negative power, a negative number to a fractional one) does each element go through ``_pow``."""
        try:
            return self._zip(math.pow, other, FLOAT64, reflected)
        except (OverflowError, ValueError):
            return self._zip(_pow, other, FLOAT64, reflected)

    def _reduce(self, fn, axes, keepdim: bool, dtype: str | None = None) -> "Array":
        """Apply ``fn`` (a function of a list) to each group of elements that share the kept axes.

        The reduced axes are moved to the end, so each group is one run of ``group`` neighbours in the
        row-major order: reducing is slicing the values into runs, with no index arithmetic."""
        axes = tuple(range(self.ndim)) if axes is None else tuple(sorted(axes))
        kept = tuple(d for d in range(self.ndim) if d not in axes)
        values = self.permute(kept + axes)._values()
        group = math.prod(self.shape[d] for d in axes)
        if group == 0:
            out = [fn([]) for _ in range(math.prod(self.shape[d] for d in kept))]
        elif group == 1:
            out = [fn([v]) for v in values] if fn not in (sum, max, min, _nanmax) else values[:]
        elif group == len(values):
            out = [fn(values)]
        else:
            out = [fn(values[i:i + group]) for i in range(0, len(values), group)]
        if keepdim:
            shape = tuple(1 if d in axes else size for d, size in enumerate(self.shape))
        else:
            shape = tuple(self.shape[d] for d in kept)
        return Array(out, shape, None, 0, dtype or self.dtype)

    # ---- elementwise maths ------------------------------------------------------------------
    def __add__(self, o): return self._zip(operator.add, o)
    def __radd__(self, o): return self._zip(operator.add, o, reflected=True)
    def __sub__(self, o): return self._zip(operator.sub, o)
    def __rsub__(self, o): return self._zip(operator.sub, o, reflected=True)
    def __mul__(self, o): return self._zip(operator.mul, o)
    def __rmul__(self, o): return self._zip(operator.mul, o, reflected=True)
    def __truediv__(self, o): return self._divide(o)
    def __rtruediv__(self, o): return self._divide(o, reflected=True)
    def __pow__(self, o): return self._power(o)
    def __rpow__(self, o): return self._power(o, reflected=True)

    def __neg__(self):
        if self.dtype == FLOAT64:
            return self._map(operator.neg, FLOAT64)
        if self.dtype == BOOL:
            raise TypeError(BOOL_NEGATIVE)
        return self._new(_wrap_int64(list(map(operator.neg, self._values()))))

    def __lt__(self, o): return self._zip(operator.lt, o, BOOL)
    def __le__(self, o): return self._zip(operator.le, o, BOOL)
    def __gt__(self, o): return self._zip(operator.gt, o, BOOL)
    def __ge__(self, o): return self._zip(operator.ge, o, BOOL)
    def __eq__(self, o): return self._zip(operator.eq, o, BOOL)
    def __ne__(self, o): return self._zip(operator.ne, o, BOOL)
    __hash__ = None

    def exp(self): return self._map(_exp)
    def log(self): return self._map(_log)
    def sqrt(self): return self._map(_sqrt)
    def tanh(self): return self._map(math.tanh)
    def sigmoid(self): return self._map(_sigmoid)
    def abs(self):
        if self.dtype == BOOL:
            return self._new(self.flat())
        values = list(map(abs, self._values()))
        return self._new(values if self.dtype == FLOAT64 else _wrap_int64(values))   # |−2⁶³| wraps to −2⁶³

    def sign(self):
        """−1, 0 or 1; 0 for a nan (as PyTorch, so |x|' at a nan is 0)."""
        if self.dtype == BOOL:
            return self._new(self.flat())
        return self._map(_float_sign if self.dtype == FLOAT64 else _sign, self.dtype)

    def relu(self):
        """max(x, 0); a nan stays nan (``x <= 0`` is false for it)."""
        zero = _ZERO[self.dtype]
        return self._new([zero if x <= 0 else x for x in self._values()])

    def maximum(self, other): return self._extreme(_maximum, other)
    def minimum(self, other): return self._extreme(_minimum, other)

    def _extreme(self, fn, other) -> "Array":
        """The elementwise larger (smaller) value, nan on either side propagating; a value taken from the
        narrower operand (an int beside a float, a bool beside an int) is cast to the result's dtype."""
        out = self._zip(fn, other)
        other_dtype = other.dtype if isinstance(other, Array) else (
            FLOAT64 if isinstance(other, float) else BOOL if isinstance(other, bool) else INT64)
        if self.dtype != out.dtype or other_dtype != out.dtype:
            out.storage = list(map(_CAST[out.dtype], out.storage))
        return out

    def where(self, x, y) -> "Array":
        """out[i] = x[i] if self[i] else y[i]   (self is the condition); a number stands for a float64 array
        of it."""
        arrays = [a for a in (x, y) if isinstance(a, Array)]
        shape = self.shape
        if any(a.shape != shape for a in arrays):
            shape = broadcast_shapes(shape, *(a.shape for a in arrays))
        dtype = promote(x.dtype if isinstance(x, Array) else FLOAT64, y.dtype if isinstance(y, Array) else FLOAT64)
        xs = x.astype(dtype).expand(shape)._values() if isinstance(x, Array) else repeat(float(x))
        ys = y.astype(dtype).expand(shape)._values() if isinstance(y, Array) else repeat(float(y))
        values = [a if keep else b for keep, a, b in zip(self.expand(shape)._values(), xs, ys)]
        return Array(values, shape, None, 0, dtype)

    # ---- reductions -----------------------------------------------------------------------
    def sum(self, axes=None, keepdim: bool = False) -> "Array":
        if self.dtype == FLOAT64:
            return self._reduce(sum, axes, keepdim, FLOAT64)
        out = self._reduce(sum, axes, keepdim, INT64)
        out.storage = _wrap_int64(out.storage)
        return out

    def max(self, axes=None, keepdim: bool = False) -> "Array":
        """The largest element over ``axes``; nan when the group holds one, wherever it stands."""
        return self._reduce(_nanmax if self.dtype == FLOAT64 else max, axes, keepdim)

    def argmax(self, axis=None, keepdim: bool = False) -> "Array":
        """Index of the first largest element along ``axis`` (of the flattened array when None); of the first
        nan when there is one, as NumPy and PyTorch."""
        source = self if axis is not None else self.reshape((self.size,))
        axis = 0 if axis is None else axis
        first_largest = _nanargmax if self.dtype == FLOAT64 else (lambda group: group.index(max(group)))
        out = source._reduce(first_largest, (axis,), keepdim, INT64)
        if self is not source and keepdim:
            out = out.reshape((1,) * self.ndim)
        return out

    # ---- matmul ---------------------------------------------------------------------------
    def matmul(self, other: "Array") -> "Array":
        """(..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast; as NumPy, a 1-D left operand is a
        row and a 1-D right one a column, and shapes that do not fit are a ``ValueError``.

        Each output is ``sum(map(mul, row, column))``: for every matrix of the batch, the rows of
        ``self`` and the columns of ``other`` (the rows of its transpose) are cut from the storage as
        lists once, so the inner loop runs in C."""
        out_shape = matmul_shape(self.shape, other.shape)
        if self.ndim == 1 or other.ndim == 1:
            left = self.reshape((1,) + self.shape) if self.ndim == 1 else self
            right = other.reshape(other.shape + (1,)) if other.ndim == 1 else other
            return left.matmul(right).reshape(out_shape)
        *batch_a, n, k = self.shape
        *batch_b, _, m = other.shape
        batch = broadcast_shapes(tuple(batch_a), tuple(batch_b))
        a, b = self.expand(batch + (n, k)), other.expand(batch + (k, m))
        mul = operator.mul
        out = []
        for index in product(*map(range, batch)):   # one () when there is no batch
            rows = a[index]._rows()
            columns = b[index].permute((1, 0))._rows()
            out += [sum(map(mul, row, column)) for row in rows for column in columns]
        dtype = promote(self.dtype, other.dtype)
        if dtype != FLOAT64:        # int64 sums wrap around; bool @ bool is "any row·column pair both true"
            out = _wrap_int64(out) if dtype == INT64 else list(map(bool, out))
        return Array(out, batch + (n, m), None, 0, dtype)

    # ---- views ------------------------------------------------------------------------------
    def permute(self, order: tuple) -> "Array":
        """Reorder the axes: only the shape and the strides move."""
        return Array(self.storage, tuple(self.shape[d] for d in order),
                     tuple(self.strides[d] for d in order), self.offset, self.dtype)

    def expand(self, shape: tuple) -> "Array":
        """Broadcast to ``shape`` without copying: a new or size-1 axis gets stride 0. A shape it does not
        broadcast to is a ``ValueError``."""
        shape = tuple(shape)
        if shape == self.shape:
            return self
        lead = len(shape) - self.ndim
        strides = [0] * lead
        for size, old_size, stride in zip(shape[lead:], self.shape, self.strides):
            if old_size == size:
                strides.append(stride)
            elif old_size == 1 and size >= 0:
                strides.append(0)
            else:
                break                   # a size that does not stretch: check_expand says so below
        if lead < 0 or len(strides) != len(shape) or (lead and min(shape[:lead]) < 0):
            check_expand(self.shape, shape)
        return Array(self.storage, shape, tuple(strides), self.offset, self.dtype)

    def reshape(self, shape: tuple) -> "Array":
        """A view when the elements are contiguous; a copy otherwise. One size may be -1 (worked out); a
        shape with another number of elements is a ``ValueError``, as in NumPy."""
        shape = reshaped(self.size, shape)
        source = self if self.is_contiguous() else self.contiguous()
        return Array(source.storage, shape, None, source.offset, self.dtype)

    def __getitem__(self, key: tuple) -> "Array":
        """Basic indexing with a normalised key: a tuple of ints, slices and None, one per axis
        (None adds an axis of size 1). Always a view."""
        shape, strides, offset, axis = [], [], self.offset, 0
        for item in key:
            if item is None:
                shape.append(1)
                strides.append(0)
                continue
            size, stride = self.shape[axis], self.strides[axis]
            if isinstance(item, slice):
                start, stop, step = item.indices(size)
                shape.append(len(range(start, stop, step)))
                strides.append(stride * step)
                offset += start * stride
            else:
                offset += item * stride
            axis += 1
        shape.extend(self.shape[axis:])
        strides.extend(self.strides[axis:])
        return Array(self.storage, tuple(shape), tuple(strides), offset, self.dtype)

    def __setitem__(self, key: tuple, values: "Array") -> None:
        """Write ``values`` into the view ``self[key]`` (used by the backward of slicing)."""
        view = self[key]
        source = values.expand(view.shape)._values() if isinstance(values, Array) else [values] * view.size
        storage = self.storage
        if view.ndim == 0 or view.strides[-1] == 0 or view.size == 0:
            for position, value in zip(view._positions(), source):
                storage[position] = value
            return
        # One extended-slice assignment per row of the view.
        length, step = view.shape[-1], view.strides[-1]
        for row, start in enumerate(view._row_starts()):
            storage[start:start + length * step:step] = source[row * length:(row + 1) * length]

    def take(self, indices: list) -> "Array":
        """Rows ``indices`` along axis 0 (an embedding lookup); a copy."""
        row = math.prod(self.shape[1:])
        values = self._values()
        out = []
        for i in indices:
            out.extend(values[i * row:(i + 1) * row])
        return Array(out, (len(indices),) + self.shape[1:], None, 0, self.dtype)

    def index_add(self, indices: list, rows: "Array") -> "Array":
        """A copy of self with ``rows[j]`` added to row ``indices[j]``; the backward of ``take``."""
        row = math.prod(self.shape[1:])
        out = self.flat()
        src = rows.flat()
        for j, i in enumerate(indices):
            base = i * row
            out[base:base + row] = map(operator.add, out[base:base + row], src[j * row:(j + 1) * row])
        return Array(out, self.shape, None, 0, promote(self.dtype, rows.dtype))


# ---- module-level creation --------------------------------------------------------------------
def from_flat(values: list, shape: tuple, dtype: str = FLOAT64) -> Array:
    """``values`` cast to ``dtype``: floats to int64 truncated toward 0 (nan, ±∞ and ints beyond int64 refused)."""
    if dtype == INT64:
        values = [v if type(v) is int else int(v) if type(v) is bool else to_int64([v])[0] for v in values]
        check_int64(values)
        return Array(values, tuple(shape), None, 0, dtype)
    return Array(list(map(_CAST[dtype], values)), tuple(shape), None, 0, dtype)


def from_numpy(array, dtype: str) -> Array:
    """A copy of a NumPy array's values (read through its own ``tolist``: NumPy is not imported here)."""
    return from_flat(array.ravel().tolist(), array.shape, dtype)


def full(shape: tuple, value, dtype: str = FLOAT64) -> Array:
    value = from_flat([value], (), dtype).storage[0]
    return Array([value] * math.prod(shape), tuple(shape), None, 0, dtype)


def arange(start, stop, step, dtype: str) -> Array:
    count = max(0, math.ceil((stop - start) / step))
    cast = _CAST[dtype]
    return Array([cast(start + i * step) for i in range(count)], (count,), None, 0, dtype)


def cat(arrays: list, axis: int) -> Array:
    """Join along ``axis``: the flat lists are interleaved block by block."""
    first = arrays[0]
    dtype = first.dtype
    for a in arrays[1:]:
        dtype = promote(dtype, a.dtype)
    outer = math.prod(first.shape[:axis])
    blocks = [(a.astype(dtype)._values(), math.prod(a.shape[axis:])) for a in arrays]
    out = []
    for i in range(outer):
        for values, block in blocks:
            out.extend(values[i * block:(i + 1) * block])
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    return Array(out, tuple(shape), None, 0, dtype)
