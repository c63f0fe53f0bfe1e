"""Softplus, a smooth ReLU, as a new primitive op: written in this file, no framework file edited.

    softplus(x) = ln(1 + eˣ)          ∂/∂x softplus(x) = eˣ / (1 + eˣ) = σ(x)

Two numerical traps, and the way around each:

- eˣ overflows for x = 1000. The equal form  max(x, 0) + ln(1 + e^(−|x|))  never raises e to a
  positive power.
- For x ≪ 0, 1 + eˣ rounds: at x = −40 it is exactly 1.0 and ln gives 0 instead of e⁻⁴⁰, and already
  at x = −20 half the digits are lost. `log1p` below computes ln(1 + t) accurately for small t.
"""
from __future__ import annotations

from tinygrad_edu import Function, Tensor


class Softplus(Function):
    """A smooth ReLU. Its derivative eˣ / (1 + eˣ) is the sigmoid, so backward needs only x."""
    formula = "{z} = ln(1 + exp({x}))"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ σ({x})"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + log1p((-x.abs()).exp())

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.sigmoid()


def log1p(t):
    """ln(1 + t) for a backend array t ≥ 0, accurate even when 1 + t rounds.

    With u = 1 + t as rounded, ln(u) · t / (u − 1) is accurate: the rounding error of u appears in
    both ln(u) and u − 1 and cancels in the ratio. Where u rounds to exactly 1, ln(1 + t) ≈ t.
    """
    u = t + 1.0
    return (u == 1.0).where(t, u.log() * t / (u - 1.0))


def softplus(x: Tensor) -> Tensor:
    """ln(1 + eˣ), elementwise, with its gradient σ(x)."""
    return Softplus.apply(x)
