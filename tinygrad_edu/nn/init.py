"""Initialisers: fresh tensors of random or fixed values, each seedable.

Every function takes ``generator`` (a `tinygrad_edu.Generator`) or ``seed`` (an int), so the same
seed always gives the same numbers. They return plain Tensors; wrap them in `Parameter`.

PyTorch's default for `Linear(in, out)` is ``uniform(-1/sqrt(in), 1/sqrt(in))`` for the weight and
the bias alike (its Kaiming-uniform with a = sqrt(5) reduces to that bound); `Embedding` uses N(0, 1).
"""
from __future__ import annotations

import math

import tinygrad_edu as tg

__all__ = ["uniform", "normal", "zeros", "ones", "linear_bound", "kaiming_uniform", "xavier_uniform",
           "generator_for"]


def generator_for(generator=None, seed=None):
    """The one generator a layer draws all its parameters from: ``generator``, or a new one seeded with
    ``seed`` (so weight and bias get different numbers), or None (the default generator)."""
    if generator is not None and seed is not None:
        raise ValueError("give either seed= or generator=, not both")
    return tg.Generator(seed) if seed is not None else generator


def uniform(shape, low: float = 0.0, high: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """Independent draws from U(low, high)."""
    return tg.uniform(*tuple(shape), low=low, high=high, generator=generator, seed=seed)


def normal(shape, mean: float = 0.0, std: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """Independent draws from N(mean, std²)."""
    t = tg.randn(*tuple(shape), generator=generator, seed=seed)
    if std != 1.0:
        t = t * std
    if mean != 0.0:
        t = t + mean
    return t.detach()


def zeros(shape) -> tg.Tensor:
    return tg.zeros(*tuple(shape))


def ones(shape) -> tg.Tensor:
    return tg.ones(*tuple(shape))


def linear_bound(fan_in: int) -> float:
    """The half-width of PyTorch's default `Linear` init: 1 / sqrt(fan_in)."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def kaiming_uniform(shape, fan_in: int, gain: float = math.sqrt(2.0), *, generator=None, seed=None) -> tg.Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan_in): keeps the variance of ReLU layers' outputs steady."""
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform(shape, -bound, bound, generator=generator, seed=seed)


def xavier_uniform(shape, fan_in: int, fan_out: int, gain: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, generator=generator, seed=seed)
