"""Exercise 1 · Mul backward: z = x ⊙ y gives ∂L/∂x = ∂L/∂z ⊙ y and ∂L/∂y = ∂L/∂z ⊙ x."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import Exercise
from ._ops import op_steps, probe, tensor_cases

SWAPPED = ("each input's gradient is the OTHER input times ∂L/∂z: ∂L/∂x = ∂L/∂z ⊙ y and "
           "∂L/∂y = ∂L/∂z ⊙ x (you multiplied by the input itself)")
SIGN = "a sign error: z = x ⊙ y grows with x where y > 0, so ∂L/∂x = +∂L/∂z ⊙ y, with no minus"
NO_GRAD = ("multiply by grad (∂L/∂z): the chain rule is ∂L/∂x = ∂L/∂z · ∂z/∂x, and you returned "
           "∂z/∂x = y alone")


def _smoke():
    return [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]]], {}


def _cases():
    from tinygrad_edu.testing import strategies as tgst
    return tensor_cases(("x", "y"), tgst.broadcastable_shapes(2, max_dims=3, max_side=3))


def diagnose(module, ctx):
    _, (gx, gy) = probe(module.Mul, [[2.0, 3.0], [5.0, 7.0]], grad=[10.0, 100.0])
    if gx == [20.0, 300.0] or gy == [50.0, 700.0]:
        return SWAPPED
    if gx == [-50.0, -700.0] or gy == [-20.0, -300.0]:
        return SIGN
    if gx == [5.0, 7.0] or gy == [2.0, 3.0]:
        return NO_GRAD
    return None


def trace(module):
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True).named("x")
    w = tg.tensor([0.5, -1.0, 2.0], requires_grad=True).named("w")
    z = module.Mul.apply(x, w).named("z")
    return z.sum().named("L")


EXERCISE = Exercise(
    number=1, slug="mul", title="Mul backward", lesson=2,
    task="class Mul(Function): z = x ⊙ y, forward and backward",
    steps=op_steps("Mul", ("x", "y"), smoke=_smoke, cases=_cases, reference=lambda x, y: x * y),
    hint="∂L/∂x = ∂L/∂z ⊙ y and ∂L/∂y = ∂L/∂z ⊙ x: save x and y in forward, multiply in backward",
    diagnose=diagnose, trace=trace)
