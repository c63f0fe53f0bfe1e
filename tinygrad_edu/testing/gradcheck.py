"""Numerical gradient checking.

The backward pass of every op is an analytic derivative written by hand, so it can be wrong.
``gradcheck`` compares it with the definition of the derivative, estimated by central
differences in float64:

    ∂f/∂x_j  ≈  (f(x + ε·e_j) − f(x − ε·e_j)) / 2ε        (error O(ε²))

A function with a non-scalar output is reduced to a scalar by a fixed random projection,
L = Σ_k w_k · out_k, with weights of varied size and sign, so that every output element
contributes and a gradient flowing to the wrong output element cannot cancel out.

Only the public Tensor API is used (``Tensor(...)``, ``tolist()``, ``shape``, ``backward``,
``no_grad``), so the check works the same on every backend.
"""

from __future__ import annotations

import contextlib
import math
import random
from typing import Any, Callable

from tinygrad_edu.shapes import flatten, nest

__all__ = ["gradcheck", "GradcheckError"]

# The projection weights are fixed so that a failing check fails the same way every run.
_PROJECTION_SEED = 20240229


class GradcheckError(AssertionError):
    """The analytic gradient (from backward) disagrees with the numerical one."""


def _values(t: Any) -> list[float]:
    """A tensor's numbers as floats, in row-major order."""
    return [float(v) for v in flatten(t.tolist())[0]]


def _element_index(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The multi-index of the element at ``flat_index`` in row-major order."""
    index = []
    for side in reversed(shape):
        index.append(flat_index % side)
        flat_index //= side
    return tuple(reversed(index))


def _projection_weights(count: int) -> list[float]:
    """Weights in ±[0.5, 1.5]: none near zero, so no output element is ignored."""
    rng = random.Random(_PROJECTION_SEED)
    return [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5) for _ in range(count)]


def _backend_of(t: Any) -> Any:
    """A context in which new tensors are made on ``t``'s backend."""
    from tinygrad_edu import use_backend

    name = getattr(t, "backend", None)
    return use_backend(name) if name else contextlib.nullcontext()


def gradcheck(fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Check ``fn``'s backward pass against central differences.

    ``fn(*inputs)`` must return a Tensor. Every input that is a Tensor with
    ``requires_grad=True`` is checked, element by element; other inputs are passed through
    unchanged. An element passes when ``|analytic − numeric| <= atol + rtol·|numeric|``.

    Returns True, or raises ``GradcheckError`` describing the worst element: which input,
    which element, the analytic and the numeric value.
    """
    from tinygrad_edu import ShapeError, Tensor, autograd, no_grad

    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")

    # ---- analytic: one backward pass through the projected output ----
    saved_grads = {i: inputs[i].grad for i in checked}
    for i in checked:
        inputs[i].grad = None
    try:
        out = fn(*inputs)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        out_shape = tuple(out.shape)
        weights = _projection_weights(math.prod(out_shape))
        if out.requires_grad:
            with _backend_of(out):
                projection = (Tensor(nest(weights, out_shape), dtype=out.dtype) if weights else
                              Tensor.zeros(*out_shape, dtype=out.dtype))   # nested lists cannot say (0, 3)
            try:
                out.backward(projection)
            except ShapeError as error:     # a backward whose gradient does not fit its input
                raise GradcheckError(f"gradcheck: {error}") from None
        analytic = {}
        for i in checked:
            grad = inputs[i].grad
            size = math.prod(inputs[i].shape)
            if grad is None:  # the output does not depend on this input
                analytic[i] = [0.0] * size
            else:
                if tuple(grad.shape) != tuple(inputs[i].shape):
                    raise GradcheckError(
                        f"gradcheck: input {i} has shape {tuple(inputs[i].shape)} but its "
                        f"gradient has shape {tuple(grad.shape)}")
                analytic[i] = _values(grad)
    finally:
        for i in checked:
            inputs[i].grad = saved_grads[i]

    # ---- numeric: perturb one element at a time in a contiguous copy of the data ----
    def projected(args: list[Any]) -> float:
        # These evaluations are the checker's own: not recorded in a graph, nor in a trace.
        recorder = autograd.set_recorder(None)
        try:
            with no_grad():
                value = fn(*args)
        finally:
            autograd.set_recorder(recorder)
        return math.fsum(w * v for w, v in zip(weights, _values(value)))

    def perturbed(x: Any, values: list[float]) -> Any:
        with _backend_of(x):  # the copy lives where the input lives
            return Tensor(nest(values, tuple(x.shape)), dtype=x.dtype)

    worst = None  # (excess over tolerance, input index, flat index, analytic, numeric)
    failures = 0
    for i in checked:
        x = inputs[i]
        values = _values(x)
        args = list(inputs)
        for j in range(len(values)):
            original = values[j]
            values[j] = original + eps
            args[i] = perturbed(x, values)
            f_plus = projected(args)
            values[j] = original - eps
            args[i] = perturbed(x, values)
            f_minus = projected(args)
            values[j] = original
            numeric = (f_plus - f_minus) / (2 * eps)
            a = analytic[i][j]
            tolerance = atol + rtol * abs(numeric)
            excess = abs(a - numeric) - tolerance
            if not excess <= 0:  # also catches NaN
                failures += 1
                if worst is None or not excess <= worst[0]:
                    worst = (excess, i, j, a, numeric)

    if worst is not None:
        _, i, j, a, numeric = worst
        shape = tuple(inputs[i].shape)
        total = sum(math.prod(inputs[k].shape) for k in checked)
        raise GradcheckError(
            f"gradcheck failed on {failures} of {total} elements; worst: input {i} "
            f"(shape {shape}), element {_element_index(j, shape)}: "
            f"analytic {a!r}, numeric {numeric!r}, difference {abs(a - numeric):.3g} "
            f"(tolerance atol={atol:g} + rtol={rtol:g}·|numeric|)")
    return True

