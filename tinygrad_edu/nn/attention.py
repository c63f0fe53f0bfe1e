"""Causal multi-head self-attention and the pre-norm transformer block.

Attention lets each position read from earlier positions:

    q = x W_qᵀ,  k = x W_kᵀ,  v = x W_vᵀ                  split into H heads of size D/H
    scores[i, j] = q_i · k_j / sqrt(D/H)                   how much position i asks for position j
    scores[i, j] = −∞ for j > i                            causal: no peeking at later positions
    a = softmax(scores) over j;   out = (a v) W_oᵀ         heads concatenated, then mixed
"""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu import functional as F

from . import init
from tinygrad_edu._checks import boolean, integer

from .layers import LayerNorm, Linear, MLPBlock, expect_tensor
from .module import Module

__all__ = ["SelfAttention", "TransformerBlock", "causal_mask"]

# A large negative number instead of −∞: exp() of it is exactly 0.0, and no inf − inf = nan appears.
_MASKED = -1e9


def causal_mask(length: int) -> Tensor:
    """A (length, length) tensor: 0 where j <= i (allowed), a large negative number where j > i.

    It is made on the current backend (`SelfAttention` makes its masks on its input's backend)."""
    return tg.tensor([[0.0 if j <= i else _MASKED for j in range(length)] for i in range(length)])


class SelfAttention(Module):
    """Multi-head self-attention over inputs of shape (T, D) or (B, T, D); causal by default.

    After each call, ``last_attention`` holds the attention weights (B, H, T, T) as a detached tensor.
    """

    def __init__(self, d_model: int, n_heads: int = 1, causal: bool = True, bias: bool = True, *,
                 generator=None, seed=None):
        super().__init__()
        generator = init.generator_for(generator, seed)
        d_model = integer("SelfAttention", "d_model", d_model)
        n_heads = integer("SelfAttention", "n_heads", n_heads)
        if d_model % n_heads:
            raise ValueError(f"SelfAttention: d_model={d_model} is not divisible by n_heads={n_heads}: each head "
                             "gets d_model / n_heads dimensions")
        self.d_model, self.n_heads = d_model, n_heads
        self.causal = boolean("SelfAttention", "causal", causal)
        self.head_dim = self.d_model // self.n_heads
        self.query = Linear(d_model, d_model, bias=bias, generator=generator)
        self.key = Linear(d_model, d_model, bias=bias, generator=generator)
        self.value = Linear(d_model, d_model, bias=bias, generator=generator)
        self.out = Linear(d_model, d_model, bias=bias, generator=generator)
        self.last_attention = None
        self._masks: dict[tuple[str, int], Tensor] = {}    # (backend, length) -> causal mask

    def _split_heads(self, t: Tensor, batch: int, length: int) -> Tensor:
        # (B, T, D) -> (B, H, T, D/H)
        return t.reshape(batch, length, self.n_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(f"SelfAttention(d_model={self.d_model})", x)
        squeeze = x.ndim == 2
        if squeeze:
            x = x.unsqueeze(0)
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise tg.ShapeError(f"SelfAttention(d_model={self.d_model}): expected input (T, {self.d_model}) "
                                f"or (B, T, {self.d_model}), got {tuple(x.shape)}")
        batch, length, _ = x.shape
        q = self._split_heads(self.query(x), batch, length)
        k = self._split_heads(self.key(x), batch, length)
        v = self._split_heads(self.value(x), batch, length)
        scores = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(self.head_dim))   # (B, H, T, T)
        if self.causal:
            key = (x.backend, length)
            if key not in self._masks:           # made on the input's backend, whatever the current one is
                with tg.use_backend(x.backend):
                    self._masks[key] = causal_mask(length)
            scores = scores + self._masks[key]
        weights = F.softmax(scores, dim=-1)
        self.last_attention = weights.detach()
        mixed = (weights @ v).permute(0, 2, 1, 3).reshape(batch, length, self.d_model)
        y = self.out(mixed)
        return y.squeeze(0) if squeeze else y

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}, causal={self.causal}"


class TransformerBlock(Module):
    """Pre-norm transformer block; both halves add to the residual stream:

        x = x + attn(ln1(x))
        x = x + mlp.delta(ln2(x))          (mlp.delta: up, activation, down; see MLPBlock)
    """

    def __init__(self, d_model: int, n_heads: int = 1, d_hidden: int | None = None,
                 activation: str = "gelu", *, generator=None, seed=None):
        super().__init__()
        generator = init.generator_for(generator, seed)
        d_model = integer("TransformerBlock", "d_model", d_model)
        d_hidden = 4 * d_model if d_hidden is None else integer("TransformerBlock", "d_hidden", d_hidden)
        self.ln1 = LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, generator=generator)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLPBlock(d_model, d_hidden, activation=activation, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp.delta(self.ln2(x))
