"""Capture: run the function once, eagerly, while every kernel it calls is written down.

During a capture the backends' kernels are wrapped: every member of the declared ``Array`` interface
that computes (``+``, ``matmul``, ``sum``, the views ...), every function that makes an array (``full``,
``from_flat`` ...) and every member that hands numbers to Python (``item``, ``tolist``, ``flat``) writes
one `Kernel` entry and then does exactly what it did before. Only the outermost call is written down:
the pure-Python backend's ``+`` calls ``expand`` inside, and that is part of ``+``.

The engine's trace slot (``autograd.set_recorder``) tells which op each kernel belonged to (the forward
of ReLU, the backward of MatMul, the update of ``up.weight``) and which tensors the function used.
Nothing in the engine is edited: when the capture ends, the backends are exactly as they were.
"""
from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass, field

from .. import autograd
from .. import backend as backends

# The members of the declared interface (backend/__init__.py), by what they do.
KERNELS = ("astype", "contiguous", "__neg__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
           "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__",
           "__ne__", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sign", "maximum", "minimum", "where",
           "sum", "max", "argmax", "matmul", "take", "index_add")
VIEWS = ("reshape", "permute", "expand", "__getitem__")      # no copy: a new shape and strides on the same storage
MUTATIONS = ("__setitem__",)                                  # writes into its receiver
READS = ("item", "tolist", "flat")                            # hand the numbers to Python
QUERIES = ("is_contiguous",)                                  # layout only: nothing computed, nothing written down
MAKERS = ("from_flat", "from_numpy", "full", "arange", "cat")   # the backend module's functions that make arrays

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@dataclass(frozen=True)
class Where:
    """A line of the user's code: the innermost one outside tinygrad_edu that led to a kernel."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{os.path.basename(self.file)}:{self.line} in {self.function}"

    @property
    def source(self) -> str:
        return linecache.getline(self.file, self.line).strip()


@dataclass(eq=False, repr=False)
class Kernel:
    """One call of a backend member, as the function made it."""

    number: int             # 1, 2, ... in the order the function ran them
    name: str               # the member: "matmul", "__add__", "full", "item" ...
    backend: object         # the backend module it belongs to
    receiver: object        # the array whose method it is; None for a module function (full, cat ...)
    args: tuple
    kwargs: dict
    out: object             # the array it returned (None for __setitem__; the Python value for a read)
    where: Where | None     # the user's line that led to it
    optimizer: object       # the optimizer whose step() ran it, or None
    op: str = ""            # which op it belonged to: "forward of ReLU", "update of up.weight", ...
    identity: bool = False  # it returned one of its inputs unchanged (expand to the same shape ...)
    # filled in by the schedule (for the second capture, the one a program is built from)
    fate: str = ""          # "run", "fused", "constant", "view", "dead", "eager", "read", "same as input"
    inputs: list = field(default_factory=list)   # where each array operand comes from (a Source each)
    value: object = None    # the Source of what it makes
    note: str = ""          # why its fate is what it is
    lowered: str = ""       # NumPy backend: the NumPy call it makes, to run without the wrapper (lower.py)

    def __repr__(self) -> str:
        return f"<kernel #{self.number} {self.describe()} ({self.op}){' ' + self.fate if self.fate else ''}>"

    @property
    def kind(self) -> str:
        if self.name in READS:
            return "read"
        if self.name in VIEWS:
            return "view"
        if self.name in MAKERS:
            return "make"
        if self.name in MUTATIONS:
            return "mutate"
        return "kernel"

    def operands(self) -> list:
        """Everything it was called with, in order: the receiver first, then the arguments."""
        return ([] if self.receiver is None else [self.receiver]) + list(self.args) + list(self.kwargs.values())

    def describe(self) -> str:
        """``matmul (4, 8) @ (8, 32) → (4, 32)``: the member, the shapes and numbers it met, what it made."""
        parts = [str(tuple(v.shape)) if _looks_like_array(v) else repr(v) for v in self.operands()
                 if _looks_like_array(v) or (isinstance(v, (int, float)) and not isinstance(v, bool))]
        text = display_name(self.name) + (" " + (" @ " if self.name == "matmul" else ", ").join(parts) if parts else "")
        if _looks_like_array(self.out):
            text += f" → {tuple(self.out.shape)}"
        return text


_DISPLAY = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "sub", "__mul__": "mul",
            "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div", "__pow__": "pow", "__rpow__": "pow",
            "__neg__": "neg", "__lt__": "less", "__le__": "less_equal", "__gt__": "greater",
            "__ge__": "greater_equal", "__eq__": "equal", "__ne__": "not_equal", "__getitem__": "slice",
            "__setitem__": "write_slice"}


def display_name(name: str) -> str:
    """The member's name as a reader says it: ``__add__`` is "add"."""
    return _DISPLAY.get(name, name)


def _looks_like_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "strides") and hasattr(value, "storage")


def settings(optimizer) -> dict:
    """An optimizer's numbers that decide its update (lr, momentum, betas ...), without its step counter."""
    return {name: value for name, value in vars(optimizer).items()
            if name != "steps" and _is_setting(value)}


def _is_setting(value) -> bool:
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value)


def slot_value(tensor, attr: str):
    """The array a tensor holds in ``attr``: its data, or its gradient's data (None without one)."""
    if attr == "data":
        return tensor.data
    grad = tensor.grad
    return None if grad is None else grad.data


@dataclass(eq=False)
class Capture:
    """One eager call of the function, written down: its kernels and what it read and left behind."""

    number: int                                   # which call of the jitted function it was (1, 2, ...)
    known: list                                   # tensors that live across calls, found by earlier captures
    arguments: list                               # (name, tensor) of the tensors it was given, in order
    kernels: list = field(default_factory=list)
    found: list = field(default_factory=list)     # tensors that existed before the call and that it used
    updates: list = field(default_factory=list)   # (optimizer, parameter, name), in the order they ran
    optimizers: list = field(default_factory=list)
    settings_before: dict = field(default_factory=dict)   # id(optimizer) -> settings when the call began
    settings_at_step: dict = field(default_factory=dict)  # ... when its step() reported its first update
    settings_after: dict = field(default_factory=dict)    # ... when the call ended
    entry: dict = field(default_factory=dict)     # id(array) -> (tensor, attr) held when the call began
    exit: list = field(default_factory=list)      # (tensor, attr, array) held when the call ended
    argument_ids: dict = field(default_factory=dict)   # id(array) -> position among the arguments
    producer: dict = field(default_factory=dict)  # id(array) -> the Kernel that made it (its latest version)
    entry_values: dict = field(default_factory=dict)   # (id(tensor), attr) -> array held when the call began
    holders: list = field(default_factory=list)   # the tensors that existed when the call began
    result: object = None

    def run(self, fn, args, kwargs, known_optimizers=()):
        """Call ``fn(*args, **kwargs)`` with every backend kernel wrapped; returns what it returned."""
        self._depth, self._labelled, self._seen, self._owners = 0, 0, set(), set()
        for position, (_, tensor) in enumerate(self.arguments):
            self.argument_ids.setdefault(id(tensor.data), position)
        holders = self.holders = _dedupe([t for _, t in self.arguments] + self.known)
        for tensor in holders:
            for attr in ("data", "grad"):
                value = slot_value(tensor, attr)
                self.entry_values[id(tensor), attr] = value
                if value is not None:
                    self.entry.setdefault(id(value), (tensor, attr))
        for optimizer in known_optimizers:
            self.settings_before[id(optimizer)] = settings(optimizer)
        patches = _Patches()
        previous = autograd.set_recorder(_Recorder(self))
        self._base = sys._getframe()
        try:
            for module in _backends():
                for name in KERNELS + VIEWS + MUTATIONS + READS:
                    patches.wrap(module.Array, name, lambda f, n=name, m=module: self._recording(m, n, f, True))
                for name in MAKERS:
                    patches.wrap(module, name, lambda f, n=name, m=module: self._recording(m, n, f, False))
            self.result = fn(*args, **kwargs)
        finally:
            patches.undo()
            autograd.set_recorder(previous)
        for kernel in self.kernels[self._labelled:]:
            kernel.op = kernel.op or "outside ops"
        for optimizer in _dedupe(list(known_optimizers) + self.optimizers):
            self.settings_after[id(optimizer)] = settings(optimizer)
        self.known = _dedupe(holders + self.found + [p for _, p, _ in self.updates])
        self.exit = [(t, attr, slot_value(t, attr)) for t in self.known for attr in ("data", "grad")]
        return self.result

    # ---- what the wrapped kernels and the trace slot report ------------------------------------
    def _recording(self, module, name, function, is_method):
        def recording(*args, **kwargs):
            if self._depth:               # a kernel calling another one: that is part of the first
                return function(*args, **kwargs)
            self._depth = 1
            try:
                out = function(*args, **kwargs)
            finally:
                self._depth = 0
            receiver, rest = (args[0], args[1:]) if is_method else (None, args)
            self._record(module, name, receiver, rest, kwargs, out)
            return out

        recording.__name__ = recording.__qualname__ = name
        recording.__wrapped__ = function
        return recording

    def _record(self, module, name, receiver, args, kwargs, out) -> None:
        where, optimizer = self._context()
        kernel = Kernel(len(self.kernels) + 1, name, module, receiver, args, kwargs, out, where, optimizer)
        if not self._in_op and optimizer is None:      # made by tensor code outside any op (a new tensor ...)
            kernel.op = f"outside ops ({self._caller})"
        kernel.identity = any(out is value for value in kernel.operands())
        for value in kernel.operands():
            if _looks_like_array(value) and id(value) not in self.producer and id(value) not in self._owners:
                self._owners.add(id(value))
                self._find_owner(value)
        self.kernels.append(kernel)
        if name in MUTATIONS:
            self.producer[id(receiver)] = kernel
        elif name not in READS and not kernel.identity and out is not None:
            self.producer[id(out)] = kernel

    def _context(self):
        """(where, optimizer): the innermost line of the user's code that is running, and the optimizer whose
        ``step`` is running (None outside one); found by walking up the Python stack to this capture."""
        optim = sys.modules.get("tinygrad_edu.optim")      # not imported: then no optimizer can be stepping
        where = optimizer = outermost = None
        frame = sys._getframe(2)
        self._in_op, self._caller = False, frame.f_back.f_code.co_name if frame.f_back else ""
        while frame is not None and frame is not self._base:
            code = frame.f_code
            if code.co_name in ("apply", "run_backward") and code.co_filename == autograd.__file__:
                self._in_op = True
            if where is None and not code.co_filename.startswith(_PACKAGE_DIR):
                where = Where(code.co_filename, frame.f_lineno, code.co_name)
            if optimizer is None and optim is not None and code.co_name == "step":
                owner = frame.f_locals.get("self")
                if isinstance(owner, optim.Optimizer):
                    optimizer = owner
            outermost = frame
            frame = frame.f_back
        if where is None and outermost is not None:    # the function itself lives in tinygrad_edu
            where = Where(outermost.f_code.co_filename, outermost.f_lineno, outermost.f_code.co_name)
        return where, optimizer

    def _find_owner(self, array) -> None:
        """The tensor whose data an array from before the call is, when a tensor method handed it to a kernel
        without an op (``targets.tolist()``, ``x > 0``): found among the locals of the calling frames."""
        frame = sys._getframe(3)
        while frame is not None and frame is not self._base:
            for value in list(frame.f_locals.values()):
                if isinstance(value, autograd.Node) and getattr(value, "data", None) is array:
                    self._use(value)
                    return
            frame = frame.f_back

    def _label(self, op: str) -> None:
        for kernel in self.kernels[self._labelled:]:
            kernel.op = kernel.op or op
        self._labelled = len(self.kernels)

    def _use(self, tensor) -> None:
        """A leaf the function used: one that lives across calls when its data was not made in this call."""
        if id(tensor) not in self._seen and tensor._ctx is None and id(tensor.data) not in self.producer:
            self._seen.add(id(tensor))
            self.found.append(tensor)

    def _update(self, param, name: str) -> None:
        _, optimizer = self._context()
        if optimizer is not None and all(o is not optimizer for o in self.optimizers):
            self.optimizers.append(optimizer)
            self.settings_at_step[id(optimizer)] = settings(optimizer)
        self.updates.append((optimizer, param, name))
        self._label(f"update of {name}")


class _Recorder:
    """The engine's trace slot, used to learn which op each kernel belonged to."""

    def __init__(self, capture: Capture):
        self.capture = capture

    def on_forward(self, ctx, inputs, output, options) -> None:
        for node in inputs:
            self.capture._use(node)
        self.capture._label(f"forward of {type(ctx).__name__}")

    def on_backward(self, ctx, output, grad_output, input_grads) -> None:
        self.capture._label(f"backward of {type(ctx).__name__}")

    def on_update(self, param, name, rule, before, grad, after) -> None:
        self.capture._update(param, name)


class _Patches:
    """Attributes replaced for the length of a capture, and put back exactly as they were."""

    def __init__(self):
        self.replaced = []

    def wrap(self, owner, name: str, make) -> None:
        own = vars(owner)
        had_own = name in own
        original = own[name] if had_own else getattr(owner, name)
        setattr(owner, name, make(getattr(owner, name)))
        self.replaced.append((owner, name, original, had_own))

    def undo(self) -> None:
        while self.replaced:
            owner, name, original, had_own = self.replaced.pop()
            if had_own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def _backends() -> list:
    """The backend modules loaded now (their kernels are the ones a function can reach)."""
    modules = [sys.modules[f"{backends.__name__}.{name}"] for name in backends.NAMES
               if f"{backends.__name__}.{name}" in sys.modules]
    current = backends.get_backend()
    return modules if any(m is current for m in modules) else modules + [current]


def _dedupe(items: list) -> list:
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
