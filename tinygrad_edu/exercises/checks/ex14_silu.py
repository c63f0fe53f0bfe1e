"""Exercise 14 · SiLU as a primitive op of your own: z = x·σ(x), stated, checked and traced."""
from __future__ import annotations

import math

import tinygrad_edu as tg

from ..checking import Exercise
from ._ops import op_steps, probe, tensor_cases

PRODUCT_RULE = ("x·σ(x) has two factors that both depend on x: by the product rule ∂z/∂x = σ(x) + x·σ′(x) = "
                "σ(x)·(1 + x·(1 − σ(x))); you kept only σ(x)")
SIGMOID_ONLY = "that is σ′(x) = σ(x)(1 − σ(x)), the derivative of the sigmoid alone; z = x·σ(x) needs the product rule"
NO_GRAD = "multiply by grad (∂L/∂z): the chain rule is ∂L/∂x = ∂L/∂z · ∂z/∂x, and you returned ∂z/∂x alone"


def _close(a, b) -> bool:
    return all(abs(u - v) <= 1e-9 * max(1.0, abs(v)) for u, v in zip(a, b))


def _smoke():
    return [[[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]]], {}


def _cases():
    from tinygrad_edu.testing import strategies as tgst
    return tensor_cases(("x",), tgst.shapes(0, 3, max_side=3).map(lambda s: (s,)), tgst.finite_floats(-4.0, 4.0))


def diagnose(module, ctx):
    s = 1 / (1 + math.exp(-1.0))
    _, (g,) = probe(module.SiLU, [[0.0, 1.0]], grad=[10.0, 100.0])
    if _close(g, [5.0, 100 * s]):
        return PRODUCT_RULE
    if _close(g, [2.5, 100 * s * (1 - s)]):
        return SIGMOID_ONLY
    if _close(g, [0.5, s * (1 + (1 - s))]):
        return NO_GRAD
    return None


def trace(module):
    x = tg.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True).named("x")
    z = module.SiLU.apply(x).named("z")
    return z.sum().named("L")


EXERCISE = Exercise(
    number=14, slug="silu", title="SiLU as a primitive op", lesson=10,
    task="class SiLU(Function): z = x·σ(x), with formula and derivative for the trace",
    steps=op_steps("SiLU", ("x",), smoke=_smoke, cases=_cases, reference=lambda x: x * x.sigmoid()),
    hint="∂L/∂x = ∂L/∂z ⊙ σ(x)(1 + x(1 − σ(x))): save x (or σ(x)) in forward",
    diagnose=diagnose, trace=trace)
