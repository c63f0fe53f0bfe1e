"""Initialisers: fresh tensors of random or fixed values, each seedable.

Every function takes ``generator`` (a `tinygrad_edu.Generator`) or ``seed`` (an int), so the same
seed always gives the same numbers. They return plain Tensors; wrap them in `Parameter`.

PyTorch's default for `Linear(in, out)` is ``uniform(-1/sqrt(in), 1/sqrt(in))`` for the weight and
the bias alike (its Kaiming-uniform with a = sqrt(5) reduces to that bound); `Embedding` uses N(0, 1).
"""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu._checks import integer, number

__all__ = ["uniform", "normal", "zeros", "ones", "linear_bound", "kaiming_uniform", "xavier_uniform",
           "generator_for"]


def generator_for(generator=None, seed=None):
    """The one generator a layer draws all its parameters from: ``generator``, or a new one seeded with
    ``seed`` (so weight and bias get different numbers), or None (the default generator)."""
    if generator is not None and seed is not None:
        raise ValueError("give either seed= or generator=, not both")
    if generator is not None and not isinstance(generator, tg.Generator):
        raise TypeError(f"generator must be a tinygrad_edu.Generator (tg.Generator(seed)), got "
                        f"{type(generator).__name__}; for a number, pass seed= instead")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    return tg.Generator(seed) if seed is not None else generator


def _shape(where: str, shape) -> tuple:
    """A shape as a tuple: ``5`` means ``(5,)``, as in ``tg.zeros(5)``."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        return (shape,)
    if isinstance(shape, (tuple, list)):
        return tuple(shape)
    raise TypeError(f"{where}: shape must be a tuple of sizes such as (3, 4), got {type(shape).__name__} {shape!r}")


def uniform(shape, low: float = 0.0, high: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """Independent draws from U(low, high); ``low <= high`` (PyTorch refuses a reversed range too)."""
    low, high = number("init.uniform", "low", low), number("init.uniform", "high", high)
    if low > high:
        raise ValueError(f"init.uniform: need low <= high, got low={low:g} > high={high:g}")
    return tg.uniform(*_shape("init.uniform", shape), low=low, high=high, generator=generator, seed=seed)


def normal(shape, mean: float = 0.0, std: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """Independent draws from N(mean, std²); ``std >= 0`` (as PyTorch requires)."""
    mean, std = number("init.normal", "mean", mean), number("init.normal", "std", std, low=0.0)
    t = tg.randn(*_shape("init.normal", shape), generator=generator, seed=seed)
    if std != 1.0:
        t = t * std
    if mean != 0.0:
        t = t + mean
    return t.detach()


def zeros(shape) -> tg.Tensor:
    return tg.zeros(*_shape("init.zeros", shape))


def ones(shape) -> tg.Tensor:
    return tg.ones(*_shape("init.ones", shape))


def linear_bound(fan_in: int) -> float:
    """The half-width of PyTorch's default `Linear` init: 1 / sqrt(fan_in)."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def kaiming_uniform(shape, fan_in: int, gain: float = math.sqrt(2.0), *, generator=None, seed=None) -> tg.Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan_in): keeps the variance of ReLU layers' outputs steady."""
    fan_in = integer("init.kaiming_uniform", "fan_in", fan_in)
    bound = number("init.kaiming_uniform", "gain", gain, low=0.0) * math.sqrt(3.0 / fan_in)
    return uniform(shape, -bound, bound, generator=generator, seed=seed)


def xavier_uniform(shape, fan_in: int, fan_out: int, gain: float = 1.0, *, generator=None, seed=None) -> tg.Tensor:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in = integer("init.xavier_uniform", "fan_in", fan_in)
    fan_out = integer("init.xavier_uniform", "fan_out", fan_out)
    bound = number("init.xavier_uniform", "gain", gain, low=0.0) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, generator=generator, seed=seed)
