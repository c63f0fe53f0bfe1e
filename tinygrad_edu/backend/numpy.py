"""The NumPy backend: the interface of ``python.py``, each kernel one or two NumPy calls.

An ``Array`` here is a thin wrapper around one ``numpy.ndarray`` (the attribute ``a``); the ndarray
already is a buffer, a shape, strides and an offset, and its views (``transpose``, ``broadcast_to``,
basic indexing) copy nothing, exactly like the pure-Python views. Only the loops move into C.

The formulas are the pure-Python backend's, written once more for whole arrays, so both backends give
the same numbers: the same two branches for the sigmoid, relu'(0) = 0, log(0) = −inf, x/0 = ±inf,
and so on. Floating-point warnings are silenced: an inf or a nan in the
result says it already, as it does on the pure-Python backend.

Import it through ``tinygrad_edu.set_backend("numpy")``; ``ops.py``, ``autograd.py`` and ``tensor.py``
never import NumPy.
"""
from __future__ import annotations

import math

import numpy as np

from ..shapes import check_expand, matmul_shape, reshaped
from .python import BOOL_NEGATIVE, BOOL_SUBTRACT, check_int64, promote, to_int64   # shared rules and words

name = "numpy"

FLOAT64, INT64, BOOL = "float64", "int64", "bool"
_NUMPY_DTYPE = {FLOAT64: np.dtype(np.float64), INT64: np.dtype(np.int64), BOOL: np.dtype(np.bool_)}
_DTYPE_NAME = {dtype: dtype_name for dtype_name, dtype in _NUMPY_DTYPE.items()}
_quietly = np.errstate(all="ignore")   # a decorator: inf and nan are results here, not warnings


class Array:
    """An n-dimensional view: one ndarray, wrapped so the engine finds this module as its backend."""

    __slots__ = ("a",)

    def __init__(self, a: np.ndarray):
        self.a = a

    # ---- layout -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.a.shape

    @property
    def ndim(self) -> int:
        return self.a.ndim

    @property
    def dtype(self) -> str:
        return _DTYPE_NAME[self.a.dtype]

    @property
    def strides(self) -> tuple:
        """Steps in elements (NumPy counts bytes)."""
        itemsize = self.a.itemsize
        return tuple(step // itemsize for step in self.a.strides)

    @property
    def storage(self):
        """The ndarray that owns the memory: the same object for every view of it."""
        owner = self.a
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        return owner

    @property
    def offset(self) -> int:
        """Where element [0, 0, ...] sits in the storage, in elements."""
        start = self.a.__array_interface__["data"][0]
        return (start - self.storage.__array_interface__["data"][0]) // self.a.itemsize

    def is_contiguous(self) -> bool:
        return self.a.flags.c_contiguous

    def flat(self) -> list:
        return self.a.ravel().tolist()

    def contiguous(self) -> "Array":
        return Array(np.ascontiguousarray(self.a))

    def astype(self, dtype: str) -> "Array":
        if _NUMPY_DTYPE[dtype] == self.a.dtype:
            return self
        if dtype == INT64 and self.a.dtype == np.float64 and self.a.size and not (
                np.isfinite(self.a).all() and -2.0 ** 63 <= self.a.min() and self.a.max() < 2.0 ** 63):
            to_int64(self.a.ravel().tolist())     # raises the pure-Python backend's error for the bad value
        return Array(self.a.astype(_NUMPY_DTYPE[dtype]))

    def tolist(self):
        return self.a.tolist()

    def item(self):
        return self.a.item(0)

    def __repr__(self) -> str:
        return f"Array(shape={self.shape}, strides={self.strides}, offset={self.offset}, dtype={self.dtype})"

    # ---- elementwise maths ------------------------------------------------------------------
    # ``o`` is an Array or a Python number; NumPy broadcasts and promotes as the pure-Python backend does
    # (bool < int64 < float64).
    def __add__(self, o): return Array(self.a + (o.a if type(o) is Array else o))
    def __radd__(self, o): return Array((o.a if type(o) is Array else o) + self.a)
    def __sub__(self, o): return self._subtract(self.a, o.a if type(o) is Array else o)
    def __rsub__(self, o): return self._subtract(o.a if type(o) is Array else o, self.a)
    def __mul__(self, o): return Array(self.a * (o.a if type(o) is Array else o))
    def __rmul__(self, o): return Array((o.a if type(o) is Array else o) * self.a)

    def __neg__(self):
        if self.a.dtype == np.bool_:
            raise TypeError(BOOL_NEGATIVE)
        return Array(-self.a)

    @staticmethod
    def _subtract(x, y):
        try:
            return Array(x - y)
        except TypeError:
            if np.result_type(x, y) == np.bool_:
                raise TypeError(BOOL_SUBTRACT) from None
            raise

    def __truediv__(self, o):
        if type(o) is not Array and o != 0:     # the mean's "/ count": nothing to silence
            return Array(np.true_divide(self.a, o))
        return self._divide(self.a, o.a if type(o) is Array else o)

    def __rtruediv__(self, o):
        return self._divide(o.a if type(o) is Array else o, self.a)

    @staticmethod
    @_quietly
    def _divide(x, y):
        return Array(np.true_divide(x, y))

    @_quietly
    def __pow__(self, o):
        """Always float64, as on the pure-Python backend (NumPy would keep int ** int an int)."""
        return Array(np.power(_as_float(self.a), _as_float(o.a) if type(o) is Array else float(o)))

    @_quietly
    def __rpow__(self, o):
        return Array(np.power(_as_float(o.a) if type(o) is Array else float(o), _as_float(self.a)))

    def __lt__(self, o): return Array(self.a < (o.a if type(o) is Array else o))
    def __le__(self, o): return Array(self.a <= (o.a if type(o) is Array else o))
    def __gt__(self, o): return Array(self.a > (o.a if type(o) is Array else o))
    def __ge__(self, o): return Array(self.a >= (o.a if type(o) is Array else o))
    def __eq__(self, o): return Array(self.a == (o.a if type(o) is Array else o))
    def __ne__(self, o): return Array(self.a != (o.a if type(o) is Array else o))
    __hash__ = None

    def exp(self): return self._float_map(np.exp)
    def log(self): return self._float_map(np.log)
    def sqrt(self): return self._float_map(np.sqrt)
    def tanh(self): return self._float_map(np.tanh)

    @_quietly
    def _float_map(self, fn):
        """``fn`` on the values as float64 (log(0) = −inf, sqrt(−1) = nan: results, not warnings)."""
        return Array(fn(_as_float(self.a)))

    def sigmoid(self):
        """σ(x) = 1 / (1 + e⁻ˣ) for x ≥ 0 and eˣ / (1 + eˣ) for x < 0: e = e^(−|x|) never overflows."""
        x = _as_float(self.a)
        e = np.exp(-np.abs(x))
        return Array(np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))

    def abs(self): return Array(np.abs(self.a))

    def sign(self):
        """−1, 0 or 1; 0 for a nan (NumPy's sign gives nan there; PyTorch and the pure-Python backend 0)."""
        if self.a.dtype == np.bool_:
            return Array(self.a.copy())           # a bool is its own sign (NumPy has no sign for bools)
        s = np.sign(self.a)
        return Array(np.where(s == s, s, 0.0) if s.dtype == np.float64 else np.asarray(s))

    def relu(self):
        """max(x, 0); a nan stays nan, as on the pure-Python backend and in PyTorch (``fmax`` would give 0)."""
        return Array(np.maximum(self.a, self.a.dtype.type(0)))

    def maximum(self, other): return Array(np.maximum(self.a, other.a if type(other) is Array else other))
    def minimum(self, other): return Array(np.minimum(self.a, other.a if type(other) is Array else other))

    def where(self, x, y) -> "Array":
        """out = x where self (the condition) else y; a number stands for a float64 array of it."""
        x = x.a if type(x) is Array else np.float64(x)
        y = y.a if type(y) is Array else np.float64(y)
        return Array(np.where(self.a, x, y))

    # ---- reductions -----------------------------------------------------------------------
    def sum(self, axes=None, keepdim: bool = False) -> "Array":
        dtype = np.float64 if self.a.dtype == np.float64 else np.int64
        return Array(np.asarray(self.a.sum(axis=axes, dtype=dtype, keepdims=keepdim)))

    def max(self, axes=None, keepdim: bool = False) -> "Array":
        if self.a.size == 0 and (empty := _empty_result(self.a, axes, keepdim)) is not None:
            return Array(empty.astype(self.a.dtype))            # nothing to compare, as in python.py
        return Array(np.asarray(self.a.max(axis=axes, keepdims=keepdim)))

    def argmax(self, axis=None, keepdim: bool = False) -> "Array":
        """Index of the first largest element along ``axis`` (of the flattened array when None)."""
        if self.a.size == 0 and axis is not None and (empty := _empty_result(self.a, axis, keepdim)) is not None:
            return Array(empty)
        return Array(np.asarray(self.a.argmax(axis=axis, keepdims=keepdim), dtype=np.int64))

    # ---- matmul ---------------------------------------------------------------------------
    def matmul(self, other: "Array") -> "Array":
        """(..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast (BLAS for float64).

        When ``self`` is a transposed matrix (Xᵀ in a weight's gradient Xᵀ·G), the product is computed
        as (Gᵀ·X)ᵀ: the same numbers, but laid out so that the transpose back to the weight's shape is
        row-major, like the weight itself. The update w − lr·g then reads both in memory order."""
        a, b = self.a, other.a
        if a.ndim == 2 and b.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous:
            return Array(np.matmul(b.T, a.T).T)
        try:
            return Array(np.matmul(a, b))
        except ValueError:
            matmul_shape(a.shape, b.shape)    # the pure-Python backend's words for what does not fit
            raise

    # ---- views ------------------------------------------------------------------------------
    def permute(self, order: tuple) -> "Array":
        return Array(self.a.transpose(order))

    def expand(self, shape: tuple) -> "Array":
        if self.a.shape == tuple(shape):
            return self
        try:
            return Array(np.broadcast_to(self.a, shape))
        except ValueError:
            check_expand(self.a.shape, tuple(shape))     # the same words as the pure-Python backend
            raise

    def reshape(self, shape: tuple) -> "Array":
        try:
            return Array(self.a.reshape(shape))
        except ValueError:
            reshaped(self.a.size, shape)
            raise

    def __getitem__(self, key: tuple) -> "Array":
        """Basic indexing with a normalised key (ints, slices, None): a view."""
        return Array(self.a[key])

    def __setitem__(self, key: tuple, values) -> None:
        self.a[key] = values.a if type(values) is Array else values

    def take(self, indices: list) -> "Array":
        """Rows ``indices`` along axis 0; a copy."""
        return Array(self.a.take(indices, axis=0))

    def index_add(self, indices: list, rows: "Array") -> "Array":
        """A copy of self with ``rows[j]`` added to row ``indices[j]`` (repeated rows add up, in order)."""
        out = self.a.astype(_NUMPY_DTYPE[promote(self.dtype, rows.dtype)], copy=True)
        np.add.at(out, indices, rows.a)
        return Array(out)


def _empty_result(a: np.ndarray, axes, keepdim: bool):
    """The (empty) result of reducing ``a`` over ``axes`` when it has no elements, else None: NumPy's max
    and argmax refuse an empty axis even then, where the pure-Python kernels just give the empty result."""
    out = np.zeros(a.shape, dtype=np.int64).sum(axis=axes, keepdims=keepdim)
    return out if out.size == 0 else None


def _as_float(a: np.ndarray) -> np.ndarray:
    return a if a.dtype == np.float64 else a.astype(np.float64)


# ---- module-level creation --------------------------------------------------------------------
def from_flat(values: list, shape: tuple, dtype: str = FLOAT64) -> Array:
    """``values`` cast to ``dtype``, with the pure-Python backend's errors for what int64 cannot hold."""
    if dtype == INT64:
        try:
            return Array(np.array(values, dtype=np.int64).reshape(shape))
        except (OverflowError, ValueError):
            values = [v if type(v) is int else int(v) if type(v) is bool else to_int64([v])[0] for v in values]
            check_int64(values)
            raise
    return Array(np.array(values, dtype=_NUMPY_DTYPE[dtype]).reshape(shape))


def from_numpy(array, dtype: str) -> Array:
    """A copy of a NumPy array, converted to ``dtype``."""
    return Array(np.array(array, dtype=_NUMPY_DTYPE[dtype], copy=True))


def full(shape: tuple, value, dtype: str = FLOAT64) -> Array:
    if dtype == INT64:
        value = from_flat([value], (), dtype).a.item()     # checked: nan, ±∞ and huge ints are refused
    return Array(np.full(tuple(shape), value, dtype=_NUMPY_DTYPE[dtype]))


def arange(start, stop, step, dtype: str) -> Array:
    """start, start + step, ... below stop: the pure-Python backend's count and values."""
    count = max(0, math.ceil((stop - start) / step))
    return Array((start + np.arange(count) * step).astype(_NUMPY_DTYPE[dtype]))


def cat(arrays: list, axis: int) -> Array:
    return Array(np.concatenate([a.a for a in arrays], axis=axis))
