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


# ---- the graph -----------------------------------------------------------------------------------
class Node:
    """What the graph is made of: a base class that declares what autograd uses of a node.

    * ``data``: the backend array holding the value;
    * ``requires_grad``: whether a gradient is wanted for it (then it is part of the graph);
    * ``_ctx``: the ``Function`` instance that made it, ``None`` for a leaf;
    * ``_retains_grad``: a node made by an op whose gradient is returned too (leaves' always are);
    * ``node._wrap(array)``: a new node around an op's output array (``apply`` links it into the graph);
    * ``node._operand(number)``: a plain number as a node that can meet this one in an op.
    """

    __slots__ = ()

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
        input_grads = ctx.backward(ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        input_grads = tuple(None if g is None or not p.requires_grad else
                            g if g.shape == p.data.shape else sum_to_shape(g, p.data.shape)
                            for p, g in zip(ctx.parents, input_grads))
        if _recorder is not None:
            _recorder.on_backward(ctx, node, grad, input_grads)
        for parent, parent_grad in zip(ctx.parents, input_grads):
            if parent_grad is None:
                continue
            key = id(parent)
            grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
    return delivered
