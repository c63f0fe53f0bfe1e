"""A second opinion from PyTorch: run the same function here and on torch tensors, compare everything.

``gradcheck`` tests a backward pass against the definition of the derivative. ``compare_with_torch``
tests the forward values *and* the gradients against an independent implementation:

    def f(x, w):                               # written once, with methods both libraries have
        return (x @ w).tanh().sum(dim=1)

    compare_with_torch(f, x, w)                # x, w: tinygrad_edu Tensors (requires_grad=True)

The Tensor inputs are copied to torch (same float64 values), ``f`` runs on both, and then

- every output is compared element by element: |ours − torch| <= atol + rtol·|torch|;
- both sides backpropagate the same weighted sum of the outputs, L = Σ w_k · out_k (fixed weights of
  varied size and sign, so every element counts), and ∂L/∂input is compared for every input that
  requires grad (and, for a module, ∂L/∂weight for every weight).

Most Tensor methods have the same name and meaning in PyTorch (``@``, ``+ - * / **``, ``exp``, ``log``,
``tanh``, ``relu``, ``sigmoid``, ``sum(dim=…)``, ``mean``, ``reshape``, ``transpose``, ``T`` ...), so a
function written with them runs on both. Where the two differ, or for an op of your own, give the
torch side separately: ``compare_with_torch(softplus, x, torch_fn=torch.nn.functional.softplus)``.
Given a Module (an nn.Linear, an MLPBlock ...) as ``fn``, the torch side is its equivalent from
`tinygrad_edu.interop.to_torch_module`, holding the same weights.

PyTorch is optional: without it, compare_with_torch raises an ImportError saying how to install it.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from ..shapes import flatten, nest

__all__ = ["compare_with_torch", "TorchComparison", "TorchMismatchError", "TorchRunError"]

_PROJECTION_SEED = 271828


class TorchMismatchError(AssertionError):
    """The function's values or gradients here differ from PyTorch's; ``.report`` has every check."""

    def __init__(self, message: str, report: "TorchComparison"):
        super().__init__(message)
        self.report = report


class TorchRunError(RuntimeError):
    """The function raised when given torch tensors (it uses something PyTorch lacks)."""


@dataclass
class Check:
    """One compared quantity: an output, or the gradient with respect to one input or weight."""
    what: str
    shape: tuple
    max_difference: float = 0.0
    where: tuple | None = None          # index of the largest difference
    ours: float | None = None           # the two values there
    theirs: float | None = None
    ok: bool = True
    problem: str = ""                   # a shape or dtype mismatch, or values not compared


@dataclass
class TorchComparison:
    """What ``compare_with_torch`` found: one `Check` per output and per gradient. True when all agree."""
    checks: list = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def max_difference(self) -> float:
        """The largest |ours − torch| over every compared element."""
        return max((c.max_difference for c in self.checks if not c.problem), default=0.0)

    def failures(self) -> list:
        return [c for c in self.checks if not c.ok]

    def table(self) -> str:
        """The checks as a plain-text table."""
        rows = [("", "compared", "shape", "max |ours − torch|", "at", "ours there", "torch there")]
        for c in self.checks:
            mark = "ok" if c.ok else "DIFFERS"
            if c.problem:
                rows.append((mark, c.what, _shape(c.shape), c.problem, "", "", ""))
                continue
            values = ("", "") if c.ok or c.ours is None else (f"{c.ours:.17g}", f"{c.theirs:.17g}")
            rows.append((mark, c.what, _shape(c.shape), f"{c.max_difference:.3g}",
                         "" if c.where is None else str(c.where), *values))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join(lines)

    def summary(self) -> str:
        bad = self.failures()
        head = (f"compare_with_torch: all {len(self.checks)} checks agree with PyTorch"
                if not bad else f"compare_with_torch: {len(bad)} of {len(self.checks)} checks differ from PyTorch")
        return f"{head} (tolerance atol={self.atol:g} + rtol={self.rtol:g}·|torch|)"

    def __str__(self) -> str:
        return self.summary() + "\n" + self.table()

    __repr__ = __str__


def _shape(shape) -> str:
    return str(tuple(shape))


def compare_with_torch(fn: Callable[..., Any], *inputs: Any, torch_fn: Callable[..., Any] | None = None,
                       atol: float = 1e-9, rtol: float = 1e-7, grad: bool = True) -> TorchComparison:
    """Run ``fn(*inputs)`` here and ``torch_fn`` (default: ``fn`` itself) on torch copies of the inputs;
    compare the outputs and, with ``grad``, the gradients of every input that requires grad.

    ``inputs`` may mix Tensors (copied to torch) with anything else (passed to both unchanged).
    ``fn`` may return a Tensor, a number, or a tuple/list of them. Returns a `TorchComparison`
    (true, printable as a table) or raises `TorchMismatchError` whose message names each output or
    input that differs, the largest difference, where it is and the two values there.
    """
    from tinygrad_edu import Tensor, nn
    from tinygrad_edu.interop import require_torch, to_torch, to_torch_module, weight_pairs

    torch = require_torch("compare_with_torch")
    module = None      # a Module whose torch equivalent is built here: its weights' gradients are compared too
    if torch_fn is None:
        if isinstance(fn, nn.Module):
            module, torch_fn = fn, to_torch_module(fn)
        else:
            torch_fn = fn
    torch_inputs = [to_torch(x) if isinstance(x, Tensor) else x for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad] if grad else []

    # ---- ours: forward, then backward through the projected outputs (restoring .grad afterwards) ----
    saved = {i: inputs[i].grad for i in checked}
    weights_saved = {name: p.grad for name, p in module.named_parameters()} if module is not None else {}
    for i in checked:
        inputs[i].grad = None
    if module is not None:
        module.zero_grad()
    try:
        ours = _outputs(fn(*inputs), Tensor, "fn")
        try:
            theirs = _outputs(torch_fn(*torch_inputs), torch.Tensor, "torch_fn" if torch_fn is not fn else "fn")
        except Exception as error:
            raise TorchRunError(f"compare_with_torch: {'torch_fn' if torch_fn is not fn else 'fn'} failed on torch "
                              f"tensors: {error}. Write fn with methods both libraries have, or pass the torch "
                              "version as torch_fn=") from error
        report = TorchComparison(atol=atol, rtol=rtol)
        if len(ours) != len(theirs):
            report.checks.append(Check("outputs", (), ok=False,
                                       problem=f"fn returned {len(ours)} outputs here, {len(theirs)} in torch"))
            raise TorchMismatchError(str(report), report)
        names = ["output"] if len(ours) == 1 else [f"output {k}" for k in range(len(ours))]
        for name, a, b in zip(names, ours, theirs):
            report.checks.append(_compare(name, a, b, atol, rtol, Tensor))
        if any(check.problem for check in report.checks):     # shapes or dtypes differ: gradients would too
            raise TorchMismatchError(str(report), report)
        if checked or module is not None:
            our_grads, their_grads = _gradients(ours, theirs, inputs, torch_inputs, checked, torch, Tensor)
            for i in checked:
                label = f"∂L/∂input {i}" + (f" ({inputs[i].name})" if getattr(inputs[i], "name", None) else "")
                report.checks.append(_compare(label, our_grads[i], their_grads[i], atol, rtol, Tensor,
                                              shape=tuple(inputs[i].shape)))
            if module is not None:
                _compare_weight_grads(report, module, torch_fn, weight_pairs, torch, atol, rtol, Tensor)
    finally:
        for i in checked:
            inputs[i].grad = saved[i]
        for name, p in (module.named_parameters() if module is not None else ()):
            p.grad = weights_saved[name]
    if not report.ok:
        raise TorchMismatchError(str(report), report)
    return report


def _outputs(value, tensor_type, who: str) -> list:
    if isinstance(value, tensor_type) or isinstance(value, (int, float)):
        return [value]
    if hasattr(value, "values") and hasattr(value, "indices") and isinstance(value, tuple):
        return [value.values]     # torch's max(dim=...) and friends: (values, indices)
    if isinstance(value, (tuple, list)):
        return list(value)
    raise TypeError(f"compare_with_torch: {who} must return a tensor, a number, or a tuple of them; "
                    f"got {type(value).__name__}")


def _flat(value) -> list:
    """Row-major list of the numbers (a torch tensor, a Tensor, a number)."""
    if hasattr(value, "cpu"):             # a torch tensor, perhaps on a GPU
        value = value.detach().cpu()
    if hasattr(value, "tolist"):
        value = value.tolist()
    return flatten(value)[0]


def _shape_of(value) -> tuple:
    return tuple(getattr(value, "shape", ()))


def _index(flat: int, shape: tuple) -> tuple:
    index = []
    for side in reversed(shape):
        index.append(flat % side)
        flat //= side
    return tuple(reversed(index))


def _dtype_name(value) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return type(value).__name__
    return str(dtype).replace("torch.", "")


def _compare(what: str, ours, theirs, atol: float, rtol: float, tensor_type, shape=None) -> Check:
    shape = _shape_of(ours) if shape is None else shape
    check = Check(what, shape)
    if ours is None or theirs is None:        # a gradient that does not reach an input counts as zeros
        ours = [0.0] * math.prod(shape) if ours is None else ours
        theirs = [0.0] * math.prod(shape) if theirs is None else theirs
    elif _shape_of(ours) != _shape_of(theirs):
        check.ok = False
        check.problem = f"shape {_shape(_shape_of(ours))} here, {_shape(_shape_of(theirs))} in torch"
        return check
    elif isinstance(ours, tensor_type) and _dtype_name(ours) != _dtype_name(theirs):
        check.ok = False
        check.problem = f"dtype {_dtype_name(ours)} here, {_dtype_name(theirs)} in torch"
        return check
    a, b = _flat(ours), _flat(theirs)
    worst = None          # (excess over the tolerance, flat index) of the worst element
    for k, (x, y) in enumerate(zip(a, b)):
        x, y = float(x), float(y)
        if x == y:        # equal, equal infinities included
            continue
        difference = abs(x - y)
        if math.isnan(difference):
            difference = math.inf
        excess = difference - (atol + rtol * abs(y))
        if math.isnan(excess):
            excess = math.inf
        check.max_difference = max(check.max_difference, difference)
        if worst is None or excess > worst[0]:
            worst = (excess, k)
    if worst is not None:
        excess, k = worst
        check.ok = excess <= 0
        check.where, check.ours, check.theirs = _index(k, shape), float(a[k]), float(b[k])
    return check


def projection_weights(count: int, output_index: int = 0) -> list:
    """The fixed weights w (row-major) of output ``output_index`` in L = Σ w·out: in ±[0.5, 1.5], so no
    element is ignored and none can cancel another."""
    rng = random.Random(_PROJECTION_SEED + output_index)
    return [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5) for _ in range(count)]


def _gradients(ours, theirs, inputs, torch_inputs, checked, torch, tensor_type):
    """∂L/∂input for L = Σ_outputs Σ w·out, on both sides (None where an input is not reached)."""
    from tinygrad_edu import Tensor, use_backend

    our_terms, their_terms = [], []
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if not (isinstance(a, tensor_type) and a.requires_grad):
            continue
        shape = tuple(a.shape)
        weights = projection_weights(math.prod(shape), k)
        with use_backend(a.backend):
            our_terms.append((a, Tensor(nest(weights, shape))))
        if isinstance(b, torch.Tensor) and b.requires_grad:
            their_terms.append((b, torch.tensor(nest(weights, shape), dtype=b.dtype)))
    for a, w in our_terms:
        a.backward(w)     # gradients add up over the outputs, as for the sum L
    our_grads = {i: inputs[i].grad for i in checked}
    their_grads = {i: None for i in checked}
    leaves = [torch_inputs[i] for i in checked]
    if their_terms:
        outs, weights = zip(*their_terms)
        torch.autograd.backward(list(outs), list(weights), inputs=None)
        their_grads = {i: leaf.grad for i, leaf in zip(checked, leaves)}
    return our_grads, their_grads


def _compare_weight_grads(report, module, torch_module, weight_pairs, torch, atol, rtol, tensor_type):
    """∂L/∂weight for every weight of a module against its torch equivalent's, by translated name."""
    theirs = dict(torch_module.named_parameters())
    ours = dict(module.named_parameters())
    for pair in weight_pairs(module):
        if pair.torch_name not in theirs or not all(name in ours for name in pair.names):
            continue
        grads = [ours[name].grad for name in pair.names]
        shape = tuple(theirs[pair.torch_name].shape)
        if any(g is None for g in grads):
            grads = [g if g is not None else ours[name].zeros_like() for g, name in zip(grads, pair.names)]
        flat = [v for g in grads for v in _flat(g)]
        ours_value = torch.tensor(nest(flat, shape), dtype=torch.float64) if flat else None
        label = f"∂L/∂{pair.torch_name}" if len(pair.names) > 1 else f"∂L/∂{pair.names[0]}"
        check = _compare(label, ours_value, theirs[pair.torch_name].grad, atol, rtol, type(None), shape=shape)
        report.checks.append(check)
