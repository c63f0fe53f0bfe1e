"""``tg.jit``: capture a training step once, then replay its kernels.

    @tg.jit
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for x, y in batches:
        loss = step(x, y)          # the first calls run eagerly and are captured, the later ones replay
    print(step.explain())          # the schedule: kernels in order, what was fused, the generated code

Eager execution pays for every op in Python: a Tensor for each result, ``Function.apply`` recording
the graph, ``backward`` sorting and walking it. The arithmetic is the same every step; only the
numbers change. So the JIT runs the step eagerly while writing down every kernel it calls (capture),
checks a second call ran the same kernels, and from then on calls those kernels directly on the
arrays (replay): same kernels, same order, the same numbers to the last bit, without the bookkeeping.

What a replay does not do: run the Python between the kernels. So what Python decides from values
(``if loss.item() > 1``, ``print(loss)``) and numbers Python makes each call (random numbers, a step
counter) cannot be replayed: the JIT notices them (the function reads numbers into Python, or its two
captures differ) and says where, instead of baking one call's choice into every replay. It cannot
notice Python state that changes between calls without changing the kernels (a list the function
appends to, a flag it reads): only the kernels, the tensors' data and gradients and the optimizers'
state are kept up to date. A new shape or dtype of an argument is captured anew.

In-place writes (``w.sub_(lr * w.grad)``, ``w -= ...``, ``add_``, ``copy_``, ``zero_``, ``fill_``) into a
tensor that lives across calls (an argument, a parameter the function reads) are replayed in their place
among the kernels: the tensor keeps its array, with the new numbers, as eagerly. Numbers read into
Python from such a tensor before the write are refused like any other read, and so is a write into an
array the function keeps without a tensor (no tensor holds it, so no replay could keep it up to date).

Optimizers whose numbers change every call (Adam: its bias correction depends on the step count;
an SGD whose lr a schedule changes between calls) are replayed up to their update, which then runs
eagerly on the arrays, as PyTorch's Adam needs ``capturable=True`` to be captured whole.
"""
from __future__ import annotations

import functools
import types
import warnings

from .. import autograd
from ..backend import get_backend

__all__ = ["jit", "Jit", "JitError"]


class JitError(RuntimeError):
    """A function the JIT cannot replay faithfully, with the reason and where in the user's code."""


class Stale(Exception):
    """Raised by a replay's checks, before it has changed anything: capture again."""


# Captures compared before a difference is final: the first steps may differ for good reasons (an optimizer's
# state does not exist yet, then is the gradient itself, then is an array of its own).
_SETTLE = 3
_capturing: list = []          # the captures running right now (a jitted function called inside one runs eagerly)


def current_capture():
    """The capture running now, if any."""
    return _capturing[-1] if _capturing else None


class Jit:
    """A function compiled by capture and replay; call it as the function. See the module's docstring.

    ``programs``: one replay program per signature of the arguments (shapes, dtypes, other values);
    ``explain()``: what the latest one does; ``reset()``: forget them all (capture again)."""

    def __init__(self, fn, max_programs: int = 8):
        if not callable(fn):
            raise TypeError(f"jit: expected a function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.max_programs = max_programs
        self.programs: dict = {}
        self.calls = 0
        self.replays = 0
        self._pending: dict = {}       # signature -> (the last capture, how many captures so far)
        self._failed: dict = {}        # signature -> the JitError it raised
        self._latest = None            # the Program made last
        self._warned = False

    def __get__(self, obj, objtype=None):
        """As a method decorator: ``step`` bound to its object (the object becomes part of the signature)."""
        return self if obj is None else types.MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<jit {self.__name__}: {self.calls} calls, {self.replays} replayed, {len(self.programs)} programs>"

    def reset(self) -> None:
        """Forget every capture and program: the next calls capture again."""
        self.programs.clear()
        self._pending.clear()
        self._failed.clear()
        self._latest = None

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if _capturing or autograd.get_recorder() is not None:
            return self.fn(*args, **kwargs)       # inside another capture, or a trace is watching every op
        key, arrays, tensors = _signature(args, kwargs)
        program = self.programs.get(key)
        if program is not None:
            try:
                result = program.replay(*arrays)
            except Stale:                          # something it relies on changed: capture again
                del self.programs[key]
            else:
                self.replays += 1
                return result
        if key in self._failed:
            raise self._failed[key]
        if len(self.programs) >= self.max_programs and key not in self._pending:
            if not self._warned:
                self._warned = True
                warnings.warn(f"jit {self.__name__}: captured for {self.max_programs} different argument signatures "
                              "already; new ones run eagerly (pass tensors of fixed shapes)", stacklevel=2)
            return self.fn(*args, **kwargs)
        return self._capture(key, args, kwargs, tensors)

    def _capture(self, key, args, kwargs, tensors):
        # The machinery is imported on the first capture, so that `import tinygrad_edu` stays light.
        from .capture import Capture
        from .codegen import assign_buffers, generate
        from .fusion import fuse
        from .lower import lower
        from .schedule import Unstable, build

        previous, count = self._pending.get(key, (None, 0))
        capture = Capture(self.calls, list(previous.known) if previous else [], _readable_names(self.fn, tensors))
        _capturing.append(capture)
        try:
            result = capture.run(self.fn, args, kwargs, previous.optimizers if previous else ())
        finally:
            _capturing.pop()
        if previous is None:
            self._pending[key] = (capture, 1)
            return result
        try:
            program = build(self.__name__, previous, capture, final=count >= _SETTLE)
            program.names = _names_in_scope(self.fn, args, kwargs)
            fuse(program)
            lower(program)
            assign_buffers(program)
            generate(program)
        except Unstable:
            self._pending[key] = (capture, count + 1)
            return result
        except JitError as error:
            self._pending.pop(key, None)
            self._failed[key] = error
            raise
        del self._pending[key]
        self.programs[key] = self._latest = program
        return result

    def explain(self, code: bool = True):
        """The schedule of the latest program: kernels in order, fusion, buffers, the generated code.

        Print it (``print(step.explain())``) for plain text; in a Rich console it draws as tables."""
        from .explain import Explanation

        if self._latest is None:
            raise RuntimeError(f"jit {self.__name__}: nothing captured yet; call it (at least twice) first")
        return Explanation(self._latest, code=code, calls=self.calls, replays=self.replays)


def jit(fn=None, *, max_programs: int = 8):
    """Compile ``fn`` by capture and replay: ``step = tg.jit(step)`` or ``@tg.jit`` (see `Jit`)."""
    if fn is None:
        return lambda f: Jit(f, max_programs=max_programs)
    return Jit(fn, max_programs=max_programs)


# ---- the signature of a call -------------------------------------------------------------------
def _signature(args: tuple, kwargs: dict):
    """(key, the arguments' arrays, [(name, tensor)]): calls with equal keys can share one program."""
    if not args and not kwargs:                   # a step that takes everything from its closure
        return (autograd.is_grad_enabled(), get_backend().name), [], []
    tensors: list = []
    parts = [_describe(value, f"args[{i}]", tensors) for i, value in enumerate(args)]
    parts += [(name, _describe(kwargs[name], name, tensors)) for name in sorted(kwargs)]
    key = (autograd.is_grad_enabled(), get_backend().name, tuple(parts))
    return key, [t.data for _, t in tensors], tensors


def _describe(value, path: str, tensors: list):
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        tensors.append((path, value))
        data = value.data
        return ("tensor", data.shape, data.dtype, tuple(data.strides), value.requires_grad, type(data))
    if isinstance(value, float):
        return (float, value.hex())
    if value is None or isinstance(value, (bool, int, str)):
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_describe(v, f"{path}[{i}]", tensors) for i, v in enumerate(value)))
    if isinstance(value, dict):
        return (dict, tuple((k, _describe(value[k], f"{path}[{k!r}]", tensors)) for k in value))
    return ("object", _Identity(value))


class _Identity:
    """Any other argument (a module, an optimizer ...): the same object, not an equal one."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Identity) and other.value is self.value


def _names_in_scope(fn, args: tuple, kwargs: dict) -> dict:
    """id(tensor) -> the name the function's code knows it by (``w``, ``model.up.weight``, ``self.x``), found
    in its arguments, closure and globals and one attribute deep: names for the generated code."""
    from ..tensor import Tensor

    code = getattr(fn, "__code__", None)
    scope = []
    if code is not None:
        scope += [(name, kwargs.get(name)) for name in code.co_varnames[:code.co_argcount]]
        scope[:len(args)] = list(zip((n for n, _ in scope), args))
        scope += list(zip(code.co_freevars, (c.cell_contents for c in (fn.__closure__ or ()))))
        scope += [(name, fn.__globals__[name]) for name in code.co_names if name in fn.__globals__]
    names: dict = {}

    def visit(name, value, depth):
        if isinstance(value, Tensor):
            names.setdefault(id(value), name)
        elif callable(getattr(value, "named_parameters", None)):
            for inner, param in value.named_parameters():
                names.setdefault(id(param), f"{name}.{inner}")
        elif isinstance(value, (list, tuple)) and len(value) <= 64:
            for i, item in enumerate(value):
                if isinstance(item, Tensor):
                    names.setdefault(id(item), f"{name}[{i}]")
        elif depth == 0 and hasattr(value, "__dict__") and not isinstance(value, type) \
                and not isinstance(value, types.ModuleType):
            for attr, item in list(vars(value).items())[:64]:
                visit(f"{name}.{attr}", item, 1)

    for name, value in scope:
        try:
            visit(name, value, 0)
        except Exception:      # an object whose attributes cannot be read: it just gets no name
            continue
    return names


def _readable_names(fn, tensors: list) -> list:
    """``args[0]`` as the parameter's own name (``x``), for the generated code and the explanation."""
    import inspect

    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return tensors
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    out = []
    for path, tensor in tensors:
        if path.startswith("args["):
            index, rest = path[5:].split("]", 1)
            if int(index) < len(positional):
                path = positional[int(index)] + rest
        out.append((path, tensor))
    return out
