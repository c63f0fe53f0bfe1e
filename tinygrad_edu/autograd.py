"""Autograd: ``Function.apply`` records the graph; ``backward`` walks it.

Every differentiable op is a ``Function`` subclass with two static methods::

    forward(ctx, *arrays, **options) -> array       # the value
    backward(ctx, grad) -> one gradient per input   # the chain rule: ∂L/∂input = ∂L/∂output · ∂output/∂input

``apply`` is the one place where the graph is recorded: the output tensor remembers the ``Function``
instance (``ctx``) that made it, and ``ctx`` remembers the input tensors. Nothing points back from an
input to its output, so the graph is freed by reference counting as soon as the loss is dropped.

Broadcasting is undone here, once, for every op: the array kernels broadcast as NumPy does, so an op's
gradient for an input comes back in the output's shape, and ``run_backward`` sums it back to the input's
shape (``sum_to_shape``). No op has to think about it.
"""
from __future__ import annotations

import contextlib

from .backend.python import broadcast_shapes
from .errors import ShapeError

_grad_enabled = True
_recorder = None

# Set by tensor.py, which imports this module (so no import cycle at load time).
Tensor = None


def check_broadcast(op: str, arrays) -> None:
    """Raise ``ShapeError`` naming ``op`` when the arrays' shapes do not broadcast together."""
    shapes = [tuple(a.shape) for a in arrays]
    try:
        broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: shapes {' and '.join(str(s) for s in shapes)} "
                         "cannot be broadcast together") from None


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
    """Install a trace recorder (``None`` turns tracing off); returns the previous one."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def get_recorder():
    return _recorder


def record_update(param, name: str, rule: str, before, grad, after) -> None:
    """Optimizers report each parameter update here; it costs one check when no trace is recording."""
    if _recorder is not None:
        _recorder.on_update(param, name, rule, before, grad, after)


# ---- Function ------------------------------------------------------------------------------------
class Function:
    """Base class of every differentiable op. Subclass it, write ``forward`` and ``backward``, call ``apply``.

    ``ctx`` (the instance) carries what ``forward`` saved for ``backward``:
    ``ctx.save_for_backward(*arrays)`` and ``ctx.saved_tensors``; ``ctx.needs_input_grad[i]`` tells
    whether input ``i`` wants a gradient, so ``backward`` may skip work.
    """

    formula = ""       # the value, e.g. "{z} = {x} ⊙ {y}": fields are forward's parameter names
    derivative = ""    # one clause per input, e.g. "∂L/∂{x} = ∂L/∂{z} ⊙ {y};  ∂L/∂{y} = ∂L/∂{z} ⊙ {x}"

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run ``forward`` on the inputs' arrays and, when any input requires grad, record the graph."""
        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]
        arrays = [t.data for t in tensors]
        if len(arrays) > 1:
            kind = type(arrays[0])
            for array in arrays:
                if type(array) is not kind:           # two backends' arrays cannot meet in one kernel
                    raise _mixed_backends(cls.__name__.lower(), arrays)
        ctx = cls()
        ctx.needs_input_grad = needs = [t.requires_grad for t in tensors]
        try:
            out = Tensor._wrap(cls.forward(ctx, *arrays, **options))
        except ValueError:
            if len(arrays) > 1:     # the usual cause: shapes that clash; say which, naming the op
                check_broadcast(cls.__name__.lower(), arrays)
            raise
        if _grad_enabled and True in needs:
            out.requires_grad = True
            ctx.parents = tensors
            out._ctx = ctx
        if _recorder is not None:
            _recorder.on_forward(ctx, tuple(tensors), out, options)
        return out


def _mixed_backends(op: str, arrays) -> ValueError:
    from .backend import backend_of
    names = " and ".join(dict.fromkeys(backend_of(a).name for a in arrays))
    return ValueError(f"{op}: cannot combine tensors on the {names} backends in one op: "
                      "move one over with Tensor(t.tolist())")


# ---- backward ------------------------------------------------------------------------------------
def topological_order(root) -> list:
    """Every tensor that ``root`` depends on through recorded ops, inputs before outputs.

    Depth-first with an explicit stack (no recursion, so a chain of 100,000 ops is fine): a tensor is
    appended after all of its parents. A tensor is marked visited when it is expanded, not when it is
    pushed: a tensor reached again deeper in the graph (``x + f(x)``) must still come before ``f(x)``.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        ctx = tensor._ctx
        if ctx is not None:
            for parent in ctx.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def sum_to_shape(grad, shape: tuple):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched from 1."""
    if grad.shape == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, size in enumerate(shape)
                                      if size == 1 and grad.shape[lead + d] != 1)
    summed = grad.sum(axes, keepdim=True) if axes else grad
    return summed.reshape(shape)


def run_backward(root, gradient) -> None:
    """Send ``gradient`` (an array shaped like ``root``) back through the graph.

    Gradients of a tensor used in several places add up. Leaves accumulate into ``.grad``; other tensors
    keep theirs only after ``retain_grad()``.
    """
    grads = {id(root): gradient}
    for tensor in reversed(topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        ctx = tensor._ctx
        if ctx is None or tensor._retains_grad:
            tensor.grad = Tensor._wrap(grad) if tensor.grad is None else Tensor._wrap(tensor.grad.data + grad)
        if ctx is None:
            continue
        input_grads = ctx.backward(ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        input_grads = tuple(None if g is None or not p.requires_grad else
                            g if g.shape == p.data.shape else sum_to_shape(g, p.data.shape)
                            for p, g in zip(ctx.parents, input_grads))
        if _recorder is not None:
            _recorder.on_backward(ctx, tensor, grad, input_grads)
        for parent, parent_grad in zip(ctx.parents, input_grads):
            if parent_grad is None:
                continue
            key = id(parent)
            grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
