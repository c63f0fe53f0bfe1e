"""Softplus, a smooth ReLU, as a new primitive op: written in this file, no framework file edited.

    softplus(x) = ln(1 + eˣ)          ∂/∂x softplus(x) = eˣ / (1 + eˣ) = σ(x)

For large |x|, eˣ overflows (x = 1000) or 1 + eˣ rounds to 1 (x = −40), so the forward pass uses
the equal form  max(x, 0) + ln(1 + e^(−|x|)),  whose exponent is never positive.
"""
from __future__ import annotations

from tinygrad_edu import Function, Tensor


class Softplus(Function):
    """z = ln(1 + eˣ)     ∂z/∂x = σ(x) = 1 / (1 + e⁻ˣ)"""
    formula = "z = softplus(x)"
    backward_formula = "∂L/∂x = ∂L/∂z ⊙ sigmoid(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + ((-x.abs()).exp() + 1.0).log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.sigmoid()


def softplus(x: Tensor) -> Tensor:
    """ln(1 + eˣ), elementwise, with its gradient σ(x)."""
    return Softplus.apply(x)
