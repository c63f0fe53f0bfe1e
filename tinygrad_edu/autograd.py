"""Autograd: ``Function.apply`` records the graph; ``run_backward`` walks it.

Every differentiable op is a ``Function`` subclass with two static methods::

    forward(ctx, *arrays, **options) -> array       # the value
    backward(ctx, grad) -> one gradient per input   # the chain rule: ∂L/∂input = ∂L/∂output · ∂output/∂input

The graph is made of nodes: objects with the few attributes ``Node`` lists. ``Tensor`` is one (tensor.py
subclasses ``Node``), but this module never names it: ``apply`` has the first input node wrap the
output array, so tensors in give a tensor out, and ``run_backward`` returns the gradients as arrays for
tensor.py to store in ``.grad``. The output remembers its ``ctx`` and ``ctx`` its inputs; nothing points
back from an input to its output, so the graph is freed by reference counting once the loss is dropped.

Broadcasting is undone here, once, for every op: the array kernels broadcast as NumPy does, so an op's
gradient for an input comes back in the output's shape, and ``run_backward`` sums it back to the input's
shape (``sum_to_shape``). No op has to think about it.
"""
from __future__ import annotations

import contextlib

from .backend import check_same_backend
from .errors import ShapeError
from .shapes import check_broadcast, stretched_axes

_grad_enabled = True
_recorder = None


# ---- switches --------------------------------------------------------------------------------
class set_grad_enabled(contextlib.ContextDecorator):
    """Record the graph (True) or not (False) inside a ``with`` block or a decorated function."""

    def __init__(self, mode: bool):
        self.mode = mode

    def __enter__(self):
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.previous
        return False


class no_grad(set_grad_enabled):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad()``) no graph is recorded."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


def is_grad_enabled() -> bool:
    return _grad_enabled


def set_recorder(recorder):
    """Install a trace recorder (``None`` turns tracing off); returns the previous one.

    The recorder's hooks: ``on_forward(ctx, inputs, output, options)`` after every op, with the options
    the op was called with; ``on_backward(ctx, output, grad_output, input_grads)`` (arrays) after every
    op's backward; ``on_update(param, name, rule, before, grad, after)`` from the optimizers."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def get_recorder():
    return _recorder


def record_update(param, name: str, rule: str, before, grad, after) -> None:
    """Optimizers report each parameter update here; it costs one check when no trace is recording."""
    if _recorder is not None:
        _recorder.on_update(param, name, rule, before, grad, after)


# ---- changes in place ----------------------------------------------------------------------------
# backward computes with the arrays forward saved, and follows each input's history. A change in place
# (x += 1, x.zero_()) breaks both unless it is seen: it writes into a storage, and so into every saved
# array that shares it; and, while recording, the changed tensor becomes the output of a new op, so an op
# that used it before would send its gradient into that new history. So every change in place ticks a
# clock: the storage keeps the tick (``mark_changed``), and so does a tensor given a new history
# (``rebase``). Each recorded op notes the clock when it ran; only when the clock has moved since does
# backward look (``_check_changes``), and it refuses instead of computing with values or a history that
# were not the forward pass's. The latest 65,536 storages changed are remembered (a storage is known by
# its id, which stays its own while a saved array keeps it alive).
_clock = 0
_changed = {}          # id(storage) -> (tick of its latest change in place, the op that made it)
_REMEMBERED = 65536


def mark_changed(array, op: str) -> None:
    """Record that ``op`` changed ``array``'s storage in place (tensor.py calls it after the write)."""
    global _clock
    _clock += 1
    key = id(array.storage)
    _changed.pop(key, None)
    _changed[key] = (_clock, op)
    if len(_changed) > _REMEMBERED:
        del _changed[next(iter(_changed))]


def rebase(node, output, op: str) -> None:
    """``node`` was changed in place by ``op`` while recording: it takes over ``output``'s history (the
    op's result). Ops recorded earlier used its old value; backward will not send their gradient on."""
    node._ctx, node.requires_grad, node._rebased = output._ctx, output.requires_grad, (_clock, op)


def _check_changes(ctx, node) -> None:
    """Refuse to run ``ctx``'s backward when something it relies on changed in place after it ran."""
    op = type(ctx).__name__
    for i, parent in enumerate(ctx.parents):
        tick, by = parent._rebased
        if tick > ctx._made_at and parent.requires_grad:
            raise RuntimeError(f"backward: {op} used its input {i}{_named(parent)} (shape {parent.data.shape}) "
                               f"before {by} changed it in place, so its gradient has nowhere to go; compute a new "
                               "tensor (y = y * w) instead of changing one that was already used")
    for array in ctx.__dict__.get("saved_tensors", ()):
        storage = getattr(array, "storage", None)
        tick, by = _changed.get(id(storage), (0, ""))
        if storage is None or tick <= ctx._made_at:
            continue
        who = next((f"its input {i}{_named(p)}" for i, p in enumerate(ctx.parents) if p.data.storage is storage),
                   "its output" if node.data.storage is storage else "a value it saved")
        raise RuntimeError(f"backward: {op} needs {who} (shape {array.shape}) as it was in the forward pass, but "
                           f"{by} changed it in place afterwards; change it after backward(), or compute a new "
                           "tensor (x = x + y, or x.clone() before changing it)")


def _named(node) -> str:
    name = getattr(node, "name", None)
    return f" '{name}'" if name else ""


# ---- the graph -----------------------------------------------------------------------------------
class Node:
    """What the graph is made of: a base class that declares what autograd uses of a node.

    * ``data``: the backend array holding the value;
    * ``requires_grad``: whether a gradient is wanted for it (then it is part of the graph);
    * ``_ctx``: the ``Function`` instance that made it, ``None`` for a leaf;
    * ``_retains_grad``: a node made by an op whose gradient is returned too (leaves' always are);
    * ``_rebased``: (clock tick, op) of the latest change in place that gave it a new history (``rebase``);
    * ``node._wrap(array)``: a new node around an op's output array (``apply`` links it into the graph);
    * ``node._operand(number)``: a plain number as a node that can meet this one in an op.
    """

    __slots__ = ()
    _rebased = (0, "")

    def _wrap(self, array) -> "Node":
        raise NotImplementedError

    def _operand(self, number) -> "Node":
        raise NotImplementedError


class Function:
    """Base class of every differentiable op. Subclass it, write ``forward`` and ``backward``, call ``apply``.

    In ``forward``, keep arrays for ``backward`` with ``ctx.save_for_backward(*arrays)`` (read back as
    ``ctx.saved_tensors``) and anything else as a plain attribute (``ctx.shape = x.shape``).
    ``ctx.needs_input_grad[i]`` tells whether input ``i`` wants a gradient, so ``backward`` may skip work.

    State the op's math once, for the reader and the trace, in ``formula`` and ``derivative``: text with
    ``str.format`` fields named after the symbols. The output's is left of "="; the inputs' (and the
    options') are the names of ``forward``'s parameters; ``{Y:T}`` is the transpose of ``Y``. The
    derivative has one clause ``∂L/∂{input} = ...`` per input, separated by ";".
    """

    formula = ""       # e.g. "{z} = {x} ⊙ {y}"
    derivative = ""    # e.g. "∂L/∂{x} = ∂L/∂{z} ⊙ {y};  ∂L/∂{y} = ∂L/∂{z} ⊙ {x}"
    _made_at = 0       # the in-place clock when the op was recorded (see ``_check_changes``)

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def __getattr__(self, name: str):
        # Only for an attribute that was never set: say where it should have been set.
        if name == "saved_tensors":
            raise AttributeError(f"{type(self).__name__}.backward reads ctx.saved_tensors, but forward saved "
                                 "nothing: call ctx.save_for_backward(...) in forward with the arrays backward needs")
        hint = "" if name.startswith("_") else f" (set ctx.{name} = ... in forward to read it in backward)"
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'{hint}")

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run ``forward`` on the inputs' arrays; when any input requires grad, record the graph.

        Returns a node like the inputs (a ``Tensor`` for tensors); plain numbers among the inputs become
        such nodes first."""
        for first in inputs:
            if isinstance(first, Node):
                break
        else:
            raise TypeError(f"{cls.__name__}.apply: needs at least one tensor among its inputs")
        nodes = [x if isinstance(x, Node) else first._operand(x) for x in inputs]
        arrays = [x.data for x in nodes]
        kind = type(arrays[0])
        for array in arrays:        # two backends' arrays cannot meet in one kernel: say so, naming both
            if type(array) is not kind:
                check_same_backend(cls.__name__.lower(), arrays)
        ctx = cls()
        ctx.needs_input_grad = needs = [x.requires_grad for x in nodes]
        try:
            out = first._wrap(cls.forward(ctx, *arrays, **options))
        except ValueError:
            if len(arrays) > 1:     # the usual cause: shapes that clash; say which, naming the op
                check_broadcast(cls.__name__.lower(), [a.shape for a in arrays])
            raise
        if _grad_enabled and True in needs:
            out.requires_grad = True
            ctx.parents = nodes
            out._ctx = ctx
            if _clock:              # something has changed in place: note when this op ran (else 0 holds)
                ctx._made_at = _clock
        if _recorder is not None:
            _recorder.on_forward(ctx, tuple(nodes), out, options)
        return out


# ---- backward ------------------------------------------------------------------------------------
def topological_order(root) -> list:
    """Every node that ``root`` depends on through recorded ops, inputs before outputs.

    Depth-first with an explicit stack (no recursion, so a chain of 100,000 ops is fine): a node is
    appended after all of its parents. A node is marked visited when it is expanded, not when it is
    pushed: a node reached again deeper in the graph (``x + f(x)``) must still come before ``f(x)``.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None:
            for parent in ctx.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def sum_to_shape(grad, shape: tuple):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched from 1."""
    if grad.shape == shape:
        return grad
    return grad.sum(stretched_axes(shape, grad.shape), keepdim=True).reshape(shape)


def _fitted(ctx, parent, grad):
    """An input's gradient in another shape than the input's: summed back when the input was broadcast
    to it (each of its sizes equal to the gradient's or 1); anything else is the op's mistake, said with the
    op, the input and both shapes."""
    shape = parent.data.shape
    if type(grad) is type(parent.data):
        lead = len(grad.shape) - len(shape)
        if lead >= 0 and all(size == 1 or size == wide for size, wide in zip(shape, grad.shape[lead:])):
            return sum_to_shape(grad, shape)
    index = next(i for i, p in enumerate(ctx.parents) if p is parent)
    where = f"{type(ctx).__name__}.backward: the gradient for input {index}"
    if type(grad) is not type(parent.data):
        raise TypeError(f"{where} is a {type(grad).__name__}: return an array like the ones forward got "
                        "(computed from grad and ctx.saved_tensors)")
    raise ShapeError(f"{where} has shape {tuple(grad.shape)}, but the input has shape {shape}: return a "
                     "gradient of the input's shape (or of the shape it was broadcast to)")


def run_backward(root, gradient) -> list:
    """Send ``gradient`` (an array shaped like ``root``) back through the graph.

    Gradients of a node used in several places add up. Returns ``(node, ∂L/∂node)`` for every leaf that
    requires grad and every node that retains its gradient, the gradient an array."""
    grads, delivered = {id(root): gradient}, []
    for node in reversed(topological_order(root)):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        ctx = node._ctx
        if ctx is None or node._retains_grad:
            delivered.append((node, grad))
        if ctx is None:
            continue
        if ctx._made_at != _clock:
            _check_changes(ctx, node)
        input_grads = ctx.backward(ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(ctx.parents):
            raise RuntimeError(f"{type(ctx).__name__}.backward returned {len(input_grads)} gradient(s) for "
                               f"{len(ctx.parents)} input(s): return one per input of forward, in order "
                               "(None for an input that gets no gradient)")
        input_grads = tuple([None if g is None or not p.requires_grad else
                             g if g.__class__ is p.data.__class__ and g.shape == p.data.shape else _fitted(ctx, p, g)
                             for p, g in zip(ctx.parents, input_grads)])
        if _recorder is not None:
            _recorder.on_backward(ctx, node, grad, input_grads)
        for parent, parent_grad in zip(ctx.parents, input_grads):
            if parent_grad is None:
                continue
            key = id(parent)
            grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
    return delivered
