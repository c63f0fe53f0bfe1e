"""Backends: where the numbers live and the kernels that touch them.

A backend is a module with an ``Array`` class (the storage and its kernels) and a few creation
functions. What ``ops.py``, ``autograd.py``, ``tensor.py``, the optimizers and a student's own ops may
call on them is declared once, below: ``Array`` for the arrays and ``Backend`` for the module. The
pure-Python backend (``python.py``) and the NumPy one (``numpy.py``) both provide it, so they are
interchangeable; a test checks both against these declarations, and that the engine calls nothing else.

Choose one with ``set_backend("numpy")``, ``with use_backend("numpy"): ...`` or the environment
variable ``TINYGRAD_EDU_BACKEND``. New tensors are made on the current backend.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Protocol

Number = float | int | bool


class Array(Protocol):
    """An n-dimensional array of float64, int64 or bool. Kernels return new arrays; views share storage.

    Binary operators take an ``Array`` or a Python number and broadcast as NumPy does; comparisons give
    bool arrays; arithmetic promotes bool < int64 < float64 with NumPy's integer rules (bool + bool is "or"
    and bool · bool "and", − of or between bools is a ``TypeError``, int64 wraps around); ``/`` and ``**``
    always give float64 (``**`` is IEEE pow). A nan propagates through ``maximum``, ``minimum``, ``relu``
    and ``max``; ``argmax`` finds the first nan; ``sign`` of nan is 0. ``reshape`` (one size may be -1),
    ``expand`` and ``matmul`` (1-D operands as in NumPy) raise ``ValueError`` for shapes that do not fit.
    ``axes`` is a tuple of axes (None: all)."""

    shape: tuple            # the size of each axis
    dtype: str              # "float64", "int64" or "bool"
    strides: tuple          # elements to step in ``storage`` per step along each axis
    offset: int             # where element [0, 0, ...] sits in ``storage``
    storage: object         # the flat buffer, the same object for every view of it
    ndim: int               # the number of axes

    # layout and conversion
    def is_contiguous(self) -> bool: ...
    def contiguous(self) -> Array: ...
    def flat(self) -> list: ...
    def tolist(self) -> list | Number: ...
    def item(self) -> Number: ...
    def astype(self, dtype: str) -> Array: ...
    # elementwise
    def __neg__(self) -> Array: ...
    def __add__(self, other: Array | Number) -> Array: ...
    def __radd__(self, other: Number) -> Array: ...
    def __sub__(self, other: Array | Number) -> Array: ...
    def __rsub__(self, other: Number) -> Array: ...
    def __mul__(self, other: Array | Number) -> Array: ...
    def __rmul__(self, other: Number) -> Array: ...
    def __truediv__(self, other: Array | Number) -> Array: ...
    def __rtruediv__(self, other: Number) -> Array: ...
    def __pow__(self, other: Array | Number) -> Array: ...
    def __rpow__(self, other: Number) -> Array: ...
    def __lt__(self, other: Array | Number) -> Array: ...
    def __le__(self, other: Array | Number) -> Array: ...
    def __gt__(self, other: Array | Number) -> Array: ...
    def __ge__(self, other: Array | Number) -> Array: ...
    def __eq__(self, other: Array | Number) -> Array: ...   # type: ignore[override]
    def __ne__(self, other: Array | Number) -> Array: ...   # type: ignore[override]
    def exp(self) -> Array: ...
    def log(self) -> Array: ...
    def sqrt(self) -> Array: ...
    def tanh(self) -> Array: ...
    def sigmoid(self) -> Array: ...
    def relu(self) -> Array: ...
    def abs(self) -> Array: ...
    def sign(self) -> Array: ...
    def maximum(self, other: Array | Number) -> Array: ...
    def minimum(self, other: Array | Number) -> Array: ...
    def where(self, x: Array | Number, y: Array | Number) -> Array: ...   # self is the condition
    # reductions
    def sum(self, axes: tuple | None = None, keepdim: bool = False) -> Array: ...
    def max(self, axes: tuple | None = None, keepdim: bool = False) -> Array: ...
    def argmax(self, axis: int | None = None, keepdim: bool = False) -> Array: ...
    # matmul: (..., n, k) @ (..., k, m), batch axes broadcast
    def matmul(self, other: Array) -> Array: ...
    # views (no copy) and row gathering
    def reshape(self, shape: tuple) -> Array: ...
    def permute(self, order: tuple) -> Array: ...
    def expand(self, shape: tuple) -> Array: ...
    def __getitem__(self, key: tuple) -> Array: ...   # ints, slices and None, one per axis
    def __setitem__(self, key: tuple, values: Array | Number) -> None: ...
    def take(self, indices: list) -> Array: ...
    def index_add(self, indices: list, rows: Array) -> Array: ...


class Backend(Protocol):
    """A backend module: its name, its ``Array`` class and the functions that make arrays."""

    name: str
    Array: type

    def from_flat(self, values: list, shape: tuple, dtype: str = "float64") -> Array: ...  # values cast to dtype
    def from_numpy(self, array, dtype: str) -> Array: ...     # a copy of a NumPy array
    def full(self, shape: tuple, value: Number, dtype: str = "float64") -> Array: ...
    def arange(self, start: Number, stop: Number, step: Number, dtype: str) -> Array: ...
    def cat(self, arrays: list, axis: int) -> Array: ...


NAMES = ("python", "numpy")
_MODULES = {f"{__name__}.{name}" for name in NAMES}
_current = None


def load(name: str):
    """The backend module called ``name``; a clear error for an unknown or uninstallable one."""
    if _current is not None and name == _current.name:     # also a backend module given to set_backend
        return _current
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(NAMES)}")
    if name == "numpy" and importlib.util.find_spec("numpy") is None:
        raise ImportError('the numpy backend needs NumPy: pip install "tinygrad-edu[numpy]"')
    return importlib.import_module(f"{__name__}.{name}")


def get_backend():
    """The current backend module (``.name`` says which)."""
    global _current
    if _current is None:
        _current = load(os.environ.get("TINYGRAD_EDU_BACKEND", "python") or "python")
    return _current


class set_backend:
    """Make ``name`` the backend for new tensors. Also a context manager that restores the previous one.

    ``name`` may also be a module that provides the ``Backend`` interface (your own backend)."""

    def __init__(self, name):
        global _current
        self.previous = get_backend()
        _current = load(name) if isinstance(name, str) else name

    def __enter__(self):
        return _current

    def __exit__(self, *exc):
        global _current
        _current = self.previous
        return False


use_backend = set_backend       # reads better as a block: ``with use_backend("numpy"): ...``


def backend_of(array) -> Backend:
    """The backend module an array belongs to (its class is defined there)."""
    return sys.modules[type(array).__module__]


def is_array(value) -> bool:
    """Whether ``value`` is an array of a named backend or of the current one: an instance of that
    module's ``Array`` class (known by its class, not by its methods)."""
    module = sys.modules.get(type(value).__module__)
    return module is not None and (module is _current or module.__name__ in _MODULES) \
        and type(value) is module.Array


def check_same_backend(op: str, arrays) -> None:
    """Raise ``ValueError`` naming ``op`` when the arrays live on different backends: their kernels
    cannot meet in one op."""
    kind = type(arrays[0])
    for array in arrays:
        if type(array) is not kind:
            names = " and ".join(dict.fromkeys(backend_of(a).name for a in arrays))
            raise ValueError(f"{op}: cannot combine tensors on the {names} backends in one op: "
                             "move one over with Tensor(t.tolist())")
