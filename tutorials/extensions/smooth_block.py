"""A new layer: the MLP block with Softplus neurons, built on the op in softplus.py.

    h   = softplus(x W_upᵀ + b_up)
    out = x + h W_downᵀ + b_down

Unlike ReLU, a softplus neuron is never exactly off: below zero it fades towards 0 instead of
stopping, so it always passes a little gradient back (σ(z) > 0 everywhere).

Trace it from the command line:

    tinygrad-edu trace tutorials/extensions/smooth_block.py:example
"""
from __future__ import annotations

import tinygrad_edu as tg
import tinygrad_edu.nn as nn

from softplus import softplus


class SmoothMLPBlock(nn.Module):
    """x + down(softplus(up(x))), with up: d_model → d_hidden and down: d_hidden → d_model."""

    def __init__(self, d_model: int, d_hidden: int, *, seed: int = 0):
        super().__init__()
        generator = tg.Generator(seed)
        self.up = nn.Linear(d_model, d_hidden, generator=generator)
        self.down = nn.Linear(d_hidden, d_model, generator=generator)

    def hidden(self, x: tg.Tensor) -> tg.Tensor:
        """How strongly each neuron fires: softplus(x W_upᵀ + b_up)."""
        return softplus(self.up(x))

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return x + self.down(self.hidden(x))


def example():
    """A small block, one token, a squared-error loss: what `tinygrad-edu trace` runs."""
    block = SmoothMLPBlock(3, 4, seed=0)
    x = tg.tensor([[1.0, -0.5, 2.0]]).named("x")
    loss = (block(x) ** 2).mean().named("loss")
    return {"loss": loss, "modules": {"block": block}}
