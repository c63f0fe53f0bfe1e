"""``Tensor``: the user-facing array with autograd.

A tensor is a backend array (``.data``: storage, shape, strides) plus what autograd needs: whether it
``requires_grad``, its ``.grad`` (a Tensor or None) and, when an op made it, the ``Function`` instance
(``_ctx``) that did. It is autograd's ``Node``, and this module is the one place that wraps arrays into
tensors and stores the gradients that ``autograd.run_backward`` returns in ``.grad``. Every
differentiable method here calls a primitive from ``ops.py`` or composes several of them.
"""
from __future__ import annotations

import functools
import itertools
import math
import numbers
import os
import random
import sys

from . import autograd, ops
from .autograd import Node, no_grad
from .backend import backend_of, check_same_backend, get_backend, is_array
from .errors import ShapeError
from .shapes import broadcast_shapes, check_broadcast, flatten

float64, int64, bool_ = "float64", "int64", "bool"
DTYPES = (float64, int64, bool_)
_RANK = {bool_: 0, int64: 1, float64: 2}       # promotion: bool < int64 < float64


def _dtype(dtype) -> str | None:
    """Accept "float64"/"int64"/"bool", the module constants, Python's float/int/bool, or NumPy dtypes."""
    if dtype is None:
        return None
    name = {float: float64, int: int64, bool: bool_}.get(dtype, None) or str(getattr(dtype, "name", dtype))
    if name == "bool_":
        name = bool_
    if name not in DTYPES:
        raise TypeError(f"unsupported dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    return name


# ---- random numbers ------------------------------------------------------------------------------
def _seed(op: str, seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{op}: seed must be an int, got {seed!r}")
    return seed


def _number(op: str, name: str, value):
    """An argument that must be a real number (not a bool), checked: the error names ``op`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return value


class Generator:
    """A seeded source of random numbers (Python's Mersenne Twister): the same seed gives the same
    tensors on every machine and every backend."""

    def __init__(self, seed: int = 0):
        self.random = random.Random()
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> "Generator":
        self.seed = _seed("manual_seed", seed)
        self.random.seed(seed)
        return self

    def __repr__(self) -> str:
        return f"Generator(seed={self.seed})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Reseed the generator used when a random function gets neither ``seed`` nor ``generator``."""
    return default_generator.manual_seed(seed)


def _generator(op: str, seed, generator) -> random.Random:
    if seed is not None and generator is not None:
        raise ValueError(f"{op}: give either seed= or generator=, not both")
    if seed is not None:
        return random.Random(_seed(op, seed))
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a tinygrad_edu Generator (tg.Generator(seed)), got {generator!r}")
    return (generator or default_generator).random


# ---- reading numbers, nested lists and NumPy arrays ------------------------------------------------
def _is_ndarray(data) -> bool:
    """A NumPy array (NumPy is never imported here: when it is not loaded, nothing can be one)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(data, numpy.ndarray)


_PLAIN_NUMBERS = {float, int, bool}


def _array_from(data, dtype):
    """A number, nested lists of numbers or a NumPy array -> an array on the current backend."""
    if _is_ndarray(data):
        kind = data.dtype.kind
        if dtype is None and kind not in "fiub":
            raise TypeError(f"Tensor: cannot make a tensor from a NumPy array of dtype {data.dtype}")
        return get_backend().from_numpy(data, dtype or (float64 if kind == "f" else bool_ if kind == "b" else int64))
    if isinstance(data, (str, bytes)):
        raise TypeError(f"Tensor: cannot make a tensor from a string: {data!r}")
    if not isinstance(data, (list, tuple, numbers.Real)):
        raise TypeError(f"Tensor: expected a number or nested lists of numbers, got {type(data).__name__}")
    try:
        values, shape = flatten(data)
    except ValueError as error:
        raise ValueError(f"Tensor: {error}") from None
    kinds = set(map(type, values))          # one C loop; the abstract checks only for other number types
    if not kinds <= _PLAIN_NUMBERS:
        for x in values:
            if not isinstance(x, numbers.Real):
                raise TypeError(f"Tensor: expected numbers, found {type(x).__name__} {x!r}")
        kinds = {bool if isinstance(x, bool) else int if isinstance(x, numbers.Integral) else float for x in values}
    if dtype is None:       # the widest kind present: bool < int64 < float64
        dtype = bool_ if kinds == {bool} else int64 if kinds and kinds <= {int, bool} else float64
    return get_backend().from_flat(values, shape, dtype)


def _normalise_dims(op: str, dim, ndim: int, keepdim: bool = False) -> tuple:
    """dim as None, an int or a tuple of ints -> a sorted tuple of non-negative axes, checked against ndim
    (and a reduction's ``keepdim`` checked too).

    A 0-d tensor takes dim 0 or -1, as in PyTorch (there is no axis to reduce: the axes are ())."""
    if keepdim is not False and keepdim is not True:
        raise TypeError(f"{op}: keepdim must be True or False, got {keepdim!r}")
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if type(dim) is int else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    bound, out = max(ndim, 1), []
    for d in dims:
        if type(d) is not int:
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -bound <= d < bound:
            raise ShapeError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimension(s)")
        out.append(d % bound)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dim {dim} repeats an axis")
    return tuple(sorted(out)) if ndim else ()


def _sizes(op: str, shape: tuple, lowest: int = 0) -> tuple:
    """f(2, 3) or f((2, 3)) -> (2, 3), each size an int >= ``lowest`` (-1 where it means "infer" or
    "keep"); a ``TypeError`` or ``ShapeError`` naming ``op`` otherwise."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if type(s) is not int:
            raise TypeError(f"{op}: sizes must be integers, got {s!r} ({type(s).__name__}) in {tuple(shape)}")
        if s < lowest:
            allowed = "non-negative integers" + (" or -1" if lowest else "")
            raise ShapeError(f"{op}: sizes must be {allowed}, got {tuple(shape)}")
    return tuple(shape)


@functools.cache
def _memory_bytes() -> int:
    """This machine's physical memory (64 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2 ** 36


# What one element costs on each backend: 8 bytes in a NumPy float64 array; on the pure-Python backend a
# list slot (8) and, once computed, a float object (24).
BYTES_PER_ELEMENT = {"python": 32, "numpy": 8}


def _checked_count(op: str, shape: tuple) -> tuple:
    """Refuse, before anything is allocated, a tensor whose elements cannot fit in this machine's memory
    on the current backend (a MemoryError naming the element count), instead of growing until the
    system kills the process. Returns ``shape``."""
    count, backend = math.prod(shape), get_backend().name
    each = BYTES_PER_ELEMENT.get(backend, 8)
    if count * each > _memory_bytes():
        raise MemoryError(f"{op}: shape {shape} has {count:,} elements, {count * each / 2 ** 30:,.1f} GiB on the "
                          f"{backend} backend ({each} bytes each): more than this machine's "
                          f"{_memory_bytes() / 2 ** 30:,.1f} GiB of memory, so nothing was allocated")
    return shape


def _copy(array):
    """A copy of a backend array with its own storage (through the declared interface: full, then write)."""
    out = backend_of(array).full(array.shape, 0, array.dtype)
    out[(slice(None),) * len(array.shape)] = array
    return out


class Tensor(Node):
    """An n-dimensional array of float64 (by default) that can record how it was computed.

    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.]])
    """

    __array_priority__ = 1000  # NumPy defers to our operators: ndarray + Tensor -> Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        dtype = _dtype(dtype)
        if isinstance(data, Tensor):
            data = _copy(data.data)         # its own storage, as torch.tensor(t): changing one leaves the other
        elif not is_array(data):
            data = _array_from(data, dtype)
        self.data = data if dtype in (None, data.dtype) else data.astype(dtype)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a str, got {name!r}")
        self.grad, self._ctx, self._retains_grad, self.name = None, None, False, name
        self.requires_grad_(requires_grad)

    @staticmethod
    def _wrap(array) -> "Tensor":
        """A tensor around an existing backend array, without any checks (the fast internal path)."""
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t._ctx, t._retains_grad, t.name, t.requires_grad = array, None, None, False, None, False
        return t

    # ---- what it is ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

    @property
    def dtype(self) -> str:
        return self.data.dtype

    @property
    def backend(self) -> str:
        return backend_of(self.data).name

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[self._axis("size", dim)]

    def _axis(self, op: str, dim) -> int:
        """One existing axis, as PyTorch's size(dim) and stride(dim) take it (a 0-d tensor has none)."""
        if type(dim) is not int:
            raise TypeError(f"{op}: dim must be an int, got {dim!r}")
        if not -self.ndim <= dim < self.ndim:
            raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {self.shape} "
                             f"(allowed: {-self.ndim} to {self.ndim - 1})" if self.ndim else
                             f"{op}: a 0-d tensor has no dim {dim}")
        return dim

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def strides(self) -> tuple:
        """How far to move in the storage for one step along each axis (in elements)."""
        return tuple(self.data.strides)

    def stride(self, dim: int | None = None):
        return self.strides() if dim is None else self.strides()[self._axis("stride", dim)]

    def storage_offset(self) -> int:
        return self.data.offset

    def storage(self):
        """The flat storage this tensor is a view of (shared by all its views)."""
        return self.data.storage

    def shares_storage(self, other: "Tensor") -> bool:
        return self.storage() is other.storage()

    def is_contiguous(self) -> bool:
        return self.data.is_contiguous()

    def named(self, name: str) -> "Tensor":
        """Give this tensor a name for traces (``x.named("x")``; None takes it away); returns the tensor itself."""
        if name is not None and not isinstance(name, str):
            raise TypeError(f"named: the name must be a str, got {name!r}")
        self.name = name
        return self

    # ---- out ---------------------------------------------------------------------------------------
    def tolist(self):
        return self.data.tolist()

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item: only a tensor with one element can be converted, this one has shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def numpy(self):
        """A NumPy copy of the values (needs NumPy: pip install "tinygrad-edu[numpy]")."""
        try:
            import numpy as np
        except ImportError:
            raise ImportError('Tensor.numpy needs NumPy: pip install "tinygrad-edu[numpy]"') from None
        return np.array(self.tolist(), dtype={float64: np.float64, int64: np.int64, bool_: np.bool_}[self.dtype])

    def __repr__(self) -> str:
        from ._format import format_tensor
        return format_tensor(self)

    def __rich__(self):
        from ._format import rich_grid
        return rich_grid(self)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """In a notebook: the coloured grid (and the gradient after backward); as text, the repr."""
        from ._display import mimebundle, tensor_view
        return mimebundle(tensor_view(self), plain=repr(self), include=include, exclude=exclude)

    __hash__ = object.__hash__

    # ---- autograd -------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if type(requires_grad) is not bool:
            raise TypeError(f"requires_grad: expected True or False, got {requires_grad!r}")
        if requires_grad and self.dtype != float64:
            raise TypeError(f"requires_grad: only float64 tensors can require gradients, this one is {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this intermediate tensor after ``backward`` (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad, so it never gets a gradient")
        self._retains_grad = True
        return self

    def detach(self) -> "Tensor":
        """The same values (shared storage), cut off from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> "Tensor":
        """A copy with its own storage, in the graph (``Contiguous``: the gradient passes unchanged)."""
        out = ops.Contiguous.apply(self)
        if out.data.storage is self.data.storage:      # already row-major: the kernel made no copy
            out.data = _copy(self.data)
        return out

    # ---- in place ---------------------------------------------------------------------------------
    def _update(self, op: str, compute, other=None, cast: bool = False) -> "Tensor":
        """Write ``compute(old value, other)`` into this tensor's own storage; return the tensor itself.

        It stays the same object (a Parameter stays registered in its module) and its views see the new
        values, as in PyTorch. The storage's version ticks (``autograd.mark_changed``), so a graph that saved
        the old values refuses to backpropagate through them instead of using the new ones.

        While the graph is recorded the op joins it: a copy of the old value takes over this tensor's
        history, and the tensor becomes the op's output. A leaf that requires grad cannot change then
        (PyTorch's rule: its gradient would be of a value that is gone); nor, unlike PyTorch, can a view of
        a tensor in the graph (compute a new tensor instead)."""
        other = None if other is None else self._operand(other)
        recording = autograd.is_grad_enabled() and self.dtype == float64 and \
            (self.requires_grad or (other is not None and other.requires_grad))
        if recording and self.requires_grad and self._ctx is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in place while the graph "
                               "is recorded (PyTorch: a leaf Variable that requires grad is being used in an "
                               "in-place operation); do it inside `with tg.no_grad():`, as an optimizer does, or "
                               "compute a new tensor (x = x + y)")
        if recording and self._ctx is not None and any(p.data.storage is self.data.storage for p in self._ctx.parents):
            raise RuntimeError(f"{op}: this tensor is a view of a tensor in the graph, so it cannot be changed in "
                               "place while the graph is recorded; compute a new tensor instead")
        if any(stride == 0 and size > 1 for size, stride in zip(self.shape, self.data.strides)):
            raise RuntimeError(f"{op}: this tensor of shape {self.shape} is an expanded view (several of its elements "
                               "are one number in memory), so it cannot be written in place; clone() it first")
        shape = self.shape if other is None else check_broadcast(op, [self.shape, other.shape])
        if shape != self.shape:
            raise ShapeError(f"{op}: this tensor has shape {self.shape}, but the result would have the broadcast shape "
                             f"{shape}; an in-place op keeps the shape")
        before = self
        if recording:                   # the old value and history, for the op's own backward
            before = Tensor._wrap(_copy(self.data))
            before._ctx, before.requires_grad, before.name = self._ctx, self.requires_grad, self.name
        result = compute(before, other)
        if not cast and _RANK[result.dtype] > _RANK[self.dtype]:
            raise TypeError(f"{op}: the result is {result.dtype}, which this {self.dtype} tensor cannot hold (PyTorch: "
                            "result type can't be cast to the desired output type); compute a new tensor instead")
        values = result.data if result.dtype == self.dtype else result.data.astype(self.dtype)
        if values.storage is self.data.storage:         # x.copy_(x.T): read everything before writing
            values = _copy(values)
        self.data[(slice(None),) * self.ndim] = values
        autograd.mark_changed(self.data, op)
        if recording:
            autograd.rebase(self, result, op)
        return self

    def add_(self, other, alpha=1):
        return self._update("add_", lambda x, y: x + (y if alpha == 1 else y * alpha), other)

    def sub_(self, other, alpha=1):
        return self._update("sub_", lambda x, y: x - (y if alpha == 1 else y * alpha), other)

    def mul_(self, other): return self._update("mul_", Tensor.__mul__, other)
    def div_(self, other): return self._update("div_", Tensor.__truediv__, other)
    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def fill_(self, value) -> "Tensor":
        """Every element set to ``value``, in place (while recording, the tensor becomes a constant)."""
        if not isinstance(value, numbers.Real):
            raise TypeError(f"fill_: value must be a number, got {value!r}")
        return self._update("fill_", lambda x, _: Tensor._wrap(backend_of(x.data).full(x.shape, value, x.dtype)))

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def copy_(self, src) -> "Tensor":
        """This tensor's elements set to ``src``'s, in place: broadcast to this shape and converted to this
        dtype (from another backend too); while recording, the gradient flows to ``src``."""
        if not isinstance(src, (Tensor, numbers.Real)):
            raise TypeError(f"copy_: src must be a Tensor or a number, got {type(src).__name__}")
        if isinstance(src, Tensor) and type(src.data) is not type(self.data):
            src = Tensor._wrap(backend_of(self.data).from_flat(src.data.flat(), src.shape, src.dtype))
        return self._update("copy_", lambda x, s: s.expand(x.shape), src, cast=True)

    def backward(self, gradient: "Tensor | None" = None) -> None:
        """Compute ∂self/∂leaf for every leaf that requires grad, adding it into ``leaf.grad``.

        ``self`` must be a scalar unless ``gradient`` (∂L/∂self, shaped like self) is given."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(did you forget requires_grad=True, or run inside no_grad()?)")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward: the output has shape {self.shape}; backward() without a gradient "
                                   "needs a scalar (reduce it with .sum() or .mean(), or pass gradient=)")
            gradient = backend_of(self.data).full(self.shape, 1.0)
        else:
            gradient = gradient.data if isinstance(gradient, Tensor) else Tensor(gradient).data
            if tuple(gradient.shape) != self.shape:
                raise ShapeError(f"backward: gradient of shape {tuple(gradient.shape)} does not match "
                                 f"the output's shape {self.shape}")
            gradient = gradient.astype(float64)
        for node, grad in autograd.run_backward(self, gradient):
            node.grad = Tensor._wrap(grad if node.grad is None else node.grad.data + grad)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- creation ---------------------------------------------------------------------------------
    @staticmethod
    def zeros(*shape, dtype=float64, requires_grad: bool = False) -> "Tensor":
        return Tensor._filled("zeros", _sizes("zeros", shape), 0, dtype, requires_grad)

    @staticmethod
    def ones(*shape, dtype=float64, requires_grad: bool = False) -> "Tensor":
        return Tensor._filled("ones", _sizes("ones", shape), 1, dtype, requires_grad)

    @staticmethod
    def full(shape, value, dtype=None, requires_grad: bool = False) -> "Tensor":
        shape = _sizes("full", tuple(shape) if isinstance(shape, (tuple, list)) else (shape,))
        return Tensor._filled("full", shape, value, dtype, requires_grad)

    @staticmethod
    def _filled(op: str, shape: tuple, value, dtype, requires_grad: bool) -> "Tensor":
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: the fill value must be a number, got {value!r}")
        dtype = _dtype(dtype) or (bool_ if isinstance(value, bool) else
                                  int64 if isinstance(value, int) else float64)
        return Tensor._wrap(get_backend().full(_checked_count(op, shape), value, dtype)).requires_grad_(requires_grad)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> "Tensor":
        """[start, start + step, ...) up to stop, like Python's range; int64 unless a float is given."""
        if stop is None:
            start, stop = 0, start
        for name, value in (("start", start), ("stop", stop), ("step", step)):
            if not math.isfinite(_number("arange", name, value)):
                raise ValueError(f"arange: {name} must be finite, got {value!r}")
        if step == 0:
            raise ValueError("arange: step must not be 0")
        _checked_count("arange", (max(0, math.ceil((stop - start) / step)),))
        dtype = _dtype(dtype) or (int64 if all(isinstance(v, int) for v in (start, stop, step)) else float64)
        return Tensor._wrap(get_backend().arange(start, stop, step, dtype)).requires_grad_(requires_grad)

    @staticmethod
    def eye(n: int, m: int | None = None, dtype=float64, requires_grad: bool = False) -> "Tensor":
        n, m = _checked_count("eye", _sizes("eye", (n, n if m is None else m)))
        values = [i == j for i in range(n) for j in range(m)]
        return Tensor._wrap(get_backend().from_flat(values, (n, m), _dtype(dtype))).requires_grad_(requires_grad)

    @staticmethod
    def rand(*shape, seed=None, generator=None, requires_grad: bool = False) -> "Tensor":
        """Uniform on [0, 1)."""
        return Tensor.uniform(*shape, low=0.0, high=1.0, seed=seed, generator=generator, requires_grad=requires_grad)

    @staticmethod
    def uniform(*shape, low: float = 0.0, high: float = 1.0, seed=None, generator=None,
                requires_grad: bool = False) -> "Tensor":
        """Uniform on [low, high)."""
        if not _number("uniform", "low", low) <= _number("uniform", "high", high):
            raise ValueError(f"uniform: low ({low}) must not be above high ({high})")
        width, rng = high - low, _generator("uniform", seed, generator)
        return Tensor._random("uniform", shape, lambda: low + width * rng.random(), requires_grad)

    @staticmethod
    def randn(*shape, seed=None, generator=None, requires_grad: bool = False) -> "Tensor":
        """Standard normal (mean 0, variance 1)."""
        rng = _generator("randn", seed, generator)
        return Tensor._random("randn", shape, lambda: rng.gauss(0.0, 1.0), requires_grad)

    @staticmethod
    def _random(op: str, shape, draw, requires_grad: bool) -> "Tensor":
        shape = _checked_count(op, _sizes(op, shape))
        values = [draw() for _ in range(math.prod(shape))]
        return Tensor._wrap(get_backend().from_flat(values, shape, float64)).requires_grad_(requires_grad)

    def zeros_like(self, dtype=None, requires_grad: bool = False) -> "Tensor":
        return Tensor.full(self.shape, 0, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def ones_like(self, dtype=None, requires_grad: bool = False) -> "Tensor":
        return Tensor.full(self.shape, 1, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def full_like(self, value, dtype=None, requires_grad: bool = False) -> "Tensor":
        return Tensor.full(self.shape, value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def rand_like(self, seed=None, generator=None) -> "Tensor":
        return Tensor.rand(*self.shape, seed=seed, generator=generator)

    def randn_like(self, seed=None, generator=None) -> "Tensor":
        return Tensor.randn(*self.shape, seed=seed, generator=generator)

    # ---- elementwise ---------------------------------------------------------------------------
    def _operand(self, other) -> "Tensor":
        """Wrap a Python number (or a NumPy array) so it can meet this tensor in a binary op, on this
        tensor's backend, with PyTorch's promotion: a bool keeps the tensor's dtype, an int makes a bool
        tensor int64 and keeps an int one int, a float is float64."""
        if isinstance(other, Tensor):
            return other              # Function.apply checks that both live on one backend
        if not isinstance(other, numbers.Real):
            if _is_ndarray(other):
                return Tensor(other)
            raise TypeError(f"unsupported operand: Tensor and {type(other).__name__}")
        dtype = (self.dtype if isinstance(other, bool) else
                 (int64 if self.dtype == bool_ else self.dtype) if isinstance(other, numbers.Integral) else float64)
        return Tensor._wrap(backend_of(self.data).full((), other, dtype))

    def float(self) -> "Tensor":
        return self if self.dtype == float64 else Tensor._wrap(self.data.astype(float64))

    def long(self) -> "Tensor":
        return Tensor._wrap(self.data.astype(int64))

    def to(self, dtype) -> "Tensor":
        return Tensor._wrap(self.data.astype(_dtype(dtype))) if _dtype(dtype) != self.dtype else self

    def __add__(self, other): return ops.Add.apply(self, self._operand(other))
    def __radd__(self, other): return ops.Add.apply(self._operand(other), self)
    def __sub__(self, other): return ops.Sub.apply(self, self._operand(other))
    def __rsub__(self, other): return ops.Sub.apply(self._operand(other), self)
    def __mul__(self, other): return ops.Mul.apply(self, self._operand(other))
    def __rmul__(self, other): return ops.Mul.apply(self._operand(other), self)
    def __truediv__(self, other): return ops.Div.apply(self, self._operand(other))
    def __rtruediv__(self, other): return ops.Div.apply(self._operand(other), self)
    def __neg__(self): return ops.Neg.apply(self)
    def __matmul__(self, other): return self.matmul(other)
    def __rmatmul__(self, other): return self._operand(other).matmul(self)

    def __pow__(self, exponent):
        """x ** c for a number c is ``PowConst``; x ** y for a tensor y is ``Pow`` (both IEEE pow)."""
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, bool):
            return ops.PowConst.apply(self, exponent=exponent)
        return ops.Pow.apply(self, self._operand(exponent))

    def __rpow__(self, base):
        """c ** x: ``Pow`` with a constant base (0 ** x and (−2) ** x too)."""
        return ops.Pow.apply(self._operand(base), self)

    def add(self, other): return self + other
    def sub(self, other): return self - other
    def mul(self, other): return self * other
    def div(self, other): return self / other
    def pow(self, exponent): return self ** exponent
    def neg(self): return -self

    def exp(self): return ops.Exp.apply(self)
    def log(self): return ops.Log.apply(self)
    def sqrt(self): return ops.Sqrt.apply(self)
    def abs(self): return ops.Abs.apply(self)
    def relu(self): return ops.ReLU.apply(self)
    def tanh(self): return ops.Tanh.apply(self)
    def sigmoid(self): return ops.Sigmoid.apply(self)
    def gelu(self): return ops.GELU.apply(self)
    def square(self): return self * self
    def maximum(self, other): return ops.Maximum.apply(self, self._operand(other))
    def minimum(self, other): return ops.Minimum.apply(self, self._operand(other))

    def clamp(self, min=None, max=None) -> "Tensor":  # noqa: A002 (PyTorch's argument names)
        """Clip to [min, max] (numbers or tensors that broadcast with this one); the gradient is 1 inside,
        including at the bounds, and 0 where clipped. Tensor bounds get the clipped elements' gradient."""
        if min is None and max is None:
            raise ValueError("clamp: give min, max or both")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (numbers.Real, Tensor))):
                raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(bound).__name__}")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return ops.ClampTensor.apply(self, -math.inf if min is None else min, math.inf if max is None else max)
        return ops.Clamp.apply(self, low=min, high=max)

    clip = clamp

    # comparisons: bool tensors, never part of the graph
    def _compare(self, other, fn) -> "Tensor":
        other = self._operand(other)
        check_same_backend("comparison", [self.data, other.data])
        check_broadcast("comparison", [self.shape, other.shape])
        return Tensor._wrap(fn(self.data, other.data))

    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)
    def __eq__(self, other): return self._compare(other, lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, lambda a, b: a != b)

    # ---- reductions ------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False) -> "Tensor":
        dims = _normalise_dims("sum", dim, self.ndim, keepdim)
        return ops.Sum.apply(self, dims=dims, keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False) -> "Tensor":
        """sum / count: composed, so its gradient (1/count to every element) comes for free. The mean of
        no elements is 0 / 0 = nan, as in PyTorch."""
        dims = _normalise_dims("mean", dim, self.ndim, keepdim)
        return self.sum(dims, keepdim) / math.prod(self.shape[d] for d in dims)

    def max(self, dim=None, keepdim: bool = False) -> "Tensor":
        """The largest value over ``dim`` (values only: use ``argmax`` for the positions).
        Ties share the gradient evenly."""
        return ops.Max.apply(self, dims=self._extremum_dims("max", dim, keepdim), keepdim=keepdim)

    def _extremum_dims(self, op: str, dim, keepdim: bool = False) -> tuple:
        """The axes max, min, argmax or argmin reduces, with PyTorch's errors for an empty tensor: without
        ``dim`` it has no extremum; over an axis of size 0 neither. Unlike PyTorch, an axis of size 0 is
        allowed when the result has no elements either: nothing is computed then (so softmax, and
        attention, work on an empty sequence)."""
        dims = _normalise_dims(op, dim, self.ndim, keepdim)
        if self.numel() == 0:
            if dim is None:
                raise RuntimeError(f"{op}: the tensor of shape {self.shape} is empty, so it has no {op}: "
                                   "give dim (PyTorch: Expected reduction dim to be specified for input.numel() == 0)")
            empty = [d for d in dims if self.shape[d] == 0]
            if empty and math.prod(s for d, s in enumerate(self.shape) if d not in dims):
                raise IndexError(f"{op}: dim {empty[0]} of shape {self.shape} has size 0, so it has no {op} "
                                 f"(PyTorch: Expected reduction dim {empty[0]} to have non-zero size)")
        return dims

    def min(self, dim=None, keepdim: bool = False) -> "Tensor":
        """The smallest value over ``dim`` (values only): min x = −max(−x) (for ints −1 − max(−1 − x), which
        never overflows; for bools "not max(not x)")."""
        dims = self._extremum_dims("min", dim, keepdim)  # checked here, so an error names min
        if self.dtype == int64:
            return -1 - (-1 - self).max(dims, keepdim)
        if self.dtype == bool_:
            return (self == False).max(dims, keepdim) == False  # noqa: E712
        return -((-self).max(dims, keepdim))

    def var(self, dim=None, keepdim: bool = False, correction: int = 1) -> "Tensor":
        """Σ (x − mean)² / (count − correction); correction=1 (PyTorch's default) is the unbiased estimate."""
        dims = _normalise_dims("var", dim, self.ndim, keepdim)
        freedom = math.prod(self.shape[d] for d in dims) - _number("var", "correction", correction)
        centered = self - self.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim) / max(freedom, 0)

    def std(self, dim=None, keepdim: bool = False, correction: int = 1) -> "Tensor":
        """√var. Where all values are equal the result is 0 and so is its gradient (as PyTorch): √'s slope
        there is ∞, and ∞ times the variance's zero slope would be nan."""
        variance = self.var(dim, keepdim, correction)
        spread = variance != 0
        return where(spread, where(spread, variance, 1.0).sqrt(), 0.0)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """Position of the (first) largest value: an int64 tensor, no gradient."""
        return Tensor._wrap(self.data.argmax(self._arg_axis("argmax", dim, keepdim), keepdim))

    def _arg_axis(self, op: str, dim, keepdim: bool = False) -> int | None:
        """argmax's or argmin's one axis (None: over all elements; a 0-d tensor's dim 0 is that too)."""
        if dim is not None and type(dim) is not int:
            raise TypeError(f"{op}: dim must be an int or None, got {dim!r}")
        dims = self._extremum_dims(op, dim, keepdim)
        return dims[0] if dim is not None and dims else None

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """Position of the (first) smallest value (of the first nan, if any): the argmax of −x, of
        −1 − x for ints (which never overflows) and of x == False for bools."""
        flipped = (-self.data if self.dtype == float64 else (-1 - self.data) if self.dtype == int64
                   else self.data == False)  # noqa: E712
        return Tensor._wrap(flipped.argmax(self._arg_axis("argmin", dim, keepdim), keepdim))

    # ---- matmul ------------------------------------------------------------------------------------
    def matmul(self, other) -> "Tensor":
        """Matrix product: 1-D, 2-D and batched (batch axes broadcast), one primitive kernel."""
        other = self._operand(other)
        a, b = self.shape, other.shape
        if not a or not b:
            raise ShapeError(f"matmul: {a} @ {b}: both operands need at least one dimension")
        inner_a = a[-1]
        inner_b = b[0] if len(b) == 1 else b[-2]
        if inner_a != inner_b:
            raise ShapeError(f"matmul: {a} @ {b}: inner sizes {inner_a} and {inner_b} differ")
        if len(a) > 2 or len(b) > 2:
            try:
                broadcast_shapes(a[:-2], b[:-2])
            except ValueError:
                raise ShapeError(f"matmul: {a} @ {b}: batch shapes {a[:-2]} and {b[:-2]} "
                                 "cannot be broadcast") from None
        return ops.MatMul.apply(self, other)

    def dot(self, other) -> "Tensor":
        other = self._operand(other)
        if self.ndim != 1 or other.ndim != 1:
            raise ShapeError(f"dot: needs two 1-D tensors, got {self.shape} and {other.shape}")
        return self.matmul(other)

    # ---- shape -------------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        """Same elements, new shape; one size may be -1 (inferred). A view when the data is contiguous; always
        a new tensor, even for the same shape (as in PyTorch), so its gradient is its own."""
        shape = _sizes("reshape", shape, lowest=-1)
        n = self.numel()
        if shape.count(-1) > 1:
            raise ShapeError(f"reshape: {self.shape} -> {shape}: only one size can be -1")
        if -1 in shape:
            known = math.prod(s for s in shape if s != -1)
            if known == 0 or n % known:
                raise ShapeError(f"reshape: cannot reshape {self.shape} ({n} elements) into {shape}")
            shape = tuple(n // known if s == -1 else s for s in shape)
        if math.prod(shape) != n:
            raise ShapeError(f"reshape: cannot reshape {self.shape} ({n} elements) into {shape}")
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (_normalise_dims("flatten", d, self.ndim)[0] for d in (start_dim, end_dim))
        if start > end:
            raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        if start == end:
            return self         # nothing to flatten: the tensor itself, as in PyTorch
        return self.reshape(self.shape[:start] + (math.prod(self.shape[start:end + 1]),) + self.shape[end + 1:])

    def permute(self, *order) -> "Tensor":
        """Reorder the axes (a view: only the strides move; a new tensor even for the same order)."""
        order = tuple(order[0]) if len(order) == 1 and isinstance(order[0], (tuple, list)) else tuple(order)
        if any(type(d) is not int for d in order):
            raise TypeError(f"permute: dims must be ints, got {order}")
        if len(order) != self.ndim or sorted(d % self.ndim for d in order if -self.ndim <= d < self.ndim) \
                != list(range(self.ndim)):
            raise ShapeError(f"permute: {order} is not an ordering of the {self.ndim} axes of shape {self.shape}")
        return ops.Permute.apply(self, order=tuple(d % self.ndim for d in order))

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap two axes (a view). A 0-d tensor takes dims 0 and -1, as in PyTorch."""
        d0, d1 = (_normalise_dims("transpose", d, self.ndim) for d in (dim0, dim1))
        order = list(range(self.ndim))
        if self.ndim:
            order[d0[0]], order[d1[0]] = order[d1[0]], order[d0[0]]
        return self.permute(order)

    @property
    def T(self) -> "Tensor":
        """All axes reversed (the matrix transpose for 2-D): a view, a new tensor even for 0-d and 1-D."""
        return ops.Permute.apply(self, order=tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def expand(self, *shape) -> "Tensor":
        """Repeat along size-1 (or new leading) axes without copying; -1 keeps a size (of an existing axis).
        A new tensor even for the same shape."""
        shape = _sizes("expand", shape, lowest=-1)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: cannot expand shape {self.shape} to fewer dimensions {shape}")
        if -1 in shape[:lead]:
            raise ShapeError(f"expand: -1 keeps a size, but dimension {shape.index(-1)} of {shape} is a new one "
                             f"(the tensor's shape is {self.shape}): give its size")
        shape = shape[:lead] + tuple(old if s == -1 else s for s, old in zip(shape[lead:], self.shape))
        for i, size in enumerate(self.shape):
            if size != 1 and size != shape[lead + i]:
                raise ShapeError(f"expand: cannot expand shape {self.shape} to {shape}: size {size} is not 1")
        return ops.Expand.apply(self, shape=shape)

    def broadcast_to(self, *shape) -> "Tensor":
        return self.expand(*shape)

    def unsqueeze(self, dim: int) -> "Tensor":
        if type(dim) is not int:
            raise TypeError(f"unsqueeze: dim must be an int, got {dim!r}")
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise ShapeError(f"unsqueeze: dim {dim} is out of range for shape {self.shape}")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None) -> "Tensor":
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = _normalise_dims("squeeze", dim, self.ndim)
        return self.reshape(tuple(s for d, s in enumerate(self.shape) if not (d in dims and s == 1)))

    def contiguous(self) -> "Tensor":
        """A row-major copy, unless the data is already laid out that way."""
        return self if self.is_contiguous() else ops.Contiguous.apply(self)

    def __getitem__(self, key) -> "Tensor":
        """Basic indexing (ints, slices with steps, None, ...) gives a view. An int64 tensor or list as the key
        gathers rows along axis 0 (an embedding lookup); a bool one is a mask (see ``_take``)."""
        if isinstance(key, (Tensor, list, bool)) or _is_ndarray(key):
            return self._take(key)
        key = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, (Tensor, list)) for k in key):
            raise IndexError("getitem: an index tensor or list is supported only alone, as t[indices] (rows)")
        if sum(k is Ellipsis for k in key) > 1:
            raise IndexError("getitem: only one ... is allowed")
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        if used > self.ndim:
            raise IndexError(f"getitem: too many indices ({used}) for a tensor of shape {self.shape}")
        if Ellipsis in key:
            at = key.index(Ellipsis)
            key = key[:at] + (slice(None),) * (self.ndim - used) + key[at + 1:]
        normalised, axis = [], 0
        for k in key:
            if k is None:
                normalised.append(None)
                continue
            size = self.shape[axis]
            if isinstance(k, slice):
                if k.step is not None and k.step <= 0:
                    raise IndexError(f"getitem: slice step must be positive, got {k.step}")
                normalised.append(k)
            elif isinstance(k, numbers.Integral) and not isinstance(k, bool):
                if not -size <= k < size:
                    raise IndexError(f"getitem: index {k} is out of range for axis {axis} of size {size} "
                                     f"(shape {self.shape})")
                normalised.append(int(k) % size)
            else:
                raise IndexError(f"getitem: unsupported index {k!r}")
            axis += 1
        return ops.Slice.apply(self, key=tuple(normalised))

    def _take(self, key) -> "Tensor":
        """Indexing with a tensor, a (nested) list or a bool, as PyTorch does, through ``Take`` (so the picked
        rows get their gradient back):

        * int64 positions pick rows of axis 0; the result is shaped like the index, then the rows' shape;
        * a bool mask shaped like the first k axes picks the elements (rows) where it is True, in order,
          into one axis: ``x[x > 0]``; a single bool is a mask of shape ()."""
        if _is_ndarray(key):
            key = Tensor(key)
        if isinstance(key, Tensor):
            kind, index_shape, flat = key.dtype, key.shape, key.data.flat()
        else:
            try:
                flat, index_shape = flatten(key)
            except ValueError as error:
                raise IndexError(f"getitem: {error}") from None
            kinds = set(map(type, flat))
            kind = bool_ if kinds == {bool} else int64 if kinds <= {int, bool} else float64
        if kind == float64:
            raise IndexError("getitem: index tensor must be int64, got float64 (positions; bool for a mask)"
                             if isinstance(key, Tensor) else
                             f"getitem: an index list must hold ints (positions) or bools (a mask), got {key!r}"[:200])
        source = self
        if kind == bool_:
            k = len(index_shape)
            if index_shape != self.shape[:k]:
                raise IndexError(f"getitem: the mask's shape {index_shape} does not match the indexed tensor's "
                                 f"shape {self.shape} at its first {k} dimension(s)")
            source = self.reshape((len(flat),) + self.shape[k:])       # the masked axes as one
            flat = list(itertools.compress(range(len(flat)), flat))     # the positions where it is True
            index_shape = (len(flat),)
        elif self.ndim == 0:
            raise IndexError("getitem: cannot gather rows from a 0-d tensor")
        rows = source.shape[0]
        for i in flat:
            if not -rows <= i < rows:
                raise IndexError(f"getitem: index {i} is out of range for axis 0 of size {rows} (shape {self.shape})")
        flat = [i % rows for i in flat]
        out = ops.Take.apply(source, indices=flat)
        return out.reshape(index_shape + source.shape[1:]) if index_shape != (len(flat),) else out

    @staticmethod
    def cat(tensors, dim: int = 0) -> "Tensor":
        """Join tensors along an existing axis ``dim``; all other sizes must match (a 0-d tensor has no axis
        to join along: PyTorch's error)."""
        tensors = _tensor_list("cat", tensors)
        first = tensors[0]
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ShapeError(f"cat: the tensor at position {i} is 0-d, so it has no axis to join along (PyTorch: "
                                 "zero-dimensional tensor cannot be concatenated); use stack, or reshape it to (1,)")
        dim = _normalise_dims("cat", dim, first.ndim)[0]
        for t in tensors[1:]:
            if t.ndim != first.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != dim):
                raise ShapeError(f"cat: shapes {', '.join(str(x.shape) for x in tensors)} differ outside dim {dim}")
        return ops.Cat.apply(*tensors, dim=dim)

    @staticmethod
    def stack(tensors, dim: int = 0) -> "Tensor":
        """Join equal-shaped tensors along a new axis ``dim``."""
        tensors = _tensor_list("stack", tensors)
        if any(t.shape != tensors[0].shape for t in tensors):
            raise ShapeError(f"stack: all shapes must be equal, got {', '.join(str(t.shape) for t in tensors)}")
        ndim = tensors[0].ndim + 1
        if type(dim) is not int:
            raise TypeError(f"stack: dim must be an int, got {dim!r}")
        if not -ndim <= dim < ndim:
            raise ShapeError(f"stack: dim {dim} is out of range for {ndim} dimensions")
        return Tensor.cat([t.unsqueeze(dim % ndim) for t in tensors], dim % ndim)


def _tensor_list(op: str, tensors) -> list:
    """cat's and stack's argument: a non-empty list (or tuple, or other iterable) of tensors."""
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: expected a list of tensors, got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a list of tensors, but item {i} is a {type(t).__name__}")
    return tensors


def where(condition, x, y) -> Tensor:
    """Elementwise choice: ``x`` where ``condition`` is true, else ``y`` (the condition gets no gradient)."""
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, (Tensor, numbers.Real)):
            raise TypeError(f"where: {name} must be a Tensor or a number, got {type(value).__name__}")
    condition = condition if isinstance(condition, Tensor) else Tensor(condition)
    x = x if isinstance(x, Tensor) else condition._operand(float(x))
    y = y if isinstance(y, Tensor) else condition._operand(float(y))
    condition = condition if condition.dtype == bool_ else Tensor._wrap(condition.data != 0)
    return ops.Where.apply(condition, x, y)


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


zeros, ones, full, arange, eye = Tensor.zeros, Tensor.ones, Tensor.full, Tensor.arange, Tensor.eye
rand, randn, uniform = Tensor.rand, Tensor.randn, Tensor.uniform
cat, stack = Tensor.cat, Tensor.stack


def zeros_like(t, **kw): return t.zeros_like(**kw)
def ones_like(t, **kw): return t.ones_like(**kw)
def full_like(t, value, **kw): return t.full_like(value, **kw)
def rand_like(t, **kw): return t.rand_like(**kw)
def randn_like(t, **kw): return t.randn_like(**kw)


__all__ = ["Tensor", "Generator", "manual_seed", "where", "tensor", "zeros", "ones", "full", "arange", "eye",
           "rand", "randn", "uniform", "cat", "stack", "zeros_like", "ones_like", "full_like", "rand_like",
           "randn_like", "no_grad", "float64", "int64", "bool_"]
