"""Exercise 2 · Exp and Log backward: d/dx eˣ = eˣ (the output itself) and d/dx ln x = 1/x."""
from __future__ import annotations

import math

import tinygrad_edu as tg

from ..checking import Exercise
from ._ops import op_steps, probe, tensor_cases

EXP_TIMES_X = ("the derivative of eˣ is eˣ itself, not x: ∂L/∂x = ∂L/∂z ⊙ z with z = eˣ (save z in forward "
               "and multiply grad by it)")
NO_GRAD = "multiply by grad (∂L/∂z): the chain rule is ∂L/∂x = ∂L/∂z · ∂z/∂x, and you returned ∂z/∂x alone"
LOG_TIMES_X = "the derivative of ln x is 1/x: divide grad by x (you multiplied)"
LOG_SQUARED = "the derivative of ln x is 1/x, not 1/x² (that one is the derivative of −1/x)"
LOG_SIGN = "a sign error: ln x grows with x, so ∂L/∂x = +∂L/∂z / x"


def _close(a, b) -> bool:
    return a is not None and len(a) == len(b) and all(abs(u - v) <= 1e-9 * max(1.0, abs(v)) for u, v in zip(a, b))


def _smoke_exp():
    return [[[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]]], {}


def _smoke_log():
    return [[[0.5, 1.0, 2.0], [3.0, 1.5, 0.25]]], {}


def _cases(low, high):
    def make():
        from tinygrad_edu.testing import strategies as tgst
        return tensor_cases(("x",), tgst.shapes(0, 3, max_side=3).map(lambda s: (s,)),
                            tgst.finite_floats(low, high))
    return make


def diagnose(module, ctx):
    e = math.e
    _, (gx,) = probe(module.Exp, [[0.0, 1.0]], grad=[10.0, 100.0])
    if not _close(gx, [10.0, 100.0 * e]):
        if _close(gx, [0.0, 100.0]):
            return EXP_TIMES_X
        if _close(gx, [1.0, e]):
            return NO_GRAD
        return None
    _, (gx,) = probe(module.Log, [[2.0, 4.0]], grad=[10.0, 100.0])
    if _close(gx, [20.0, 400.0]):
        return LOG_TIMES_X
    if _close(gx, [2.5, 6.25]):
        return LOG_SQUARED
    if _close(gx, [-5.0, -25.0]):
        return LOG_SIGN
    if _close(gx, [0.5, 0.25]):
        return NO_GRAD
    return None


def trace(module):
    x = tg.tensor([0.5, 1.0, 2.0], requires_grad=True).named("x")
    z = module.Exp.apply(x).named("z")
    y = module.Log.apply(z).named("y")          # log(exp(x)) = x: the gradient comes back as 1
    return y.sum().named("L")


EXERCISE = Exercise(
    number=2, slug="exp_log", title="Exp and Log backward", lesson=2,
    task="class Exp(Function) and class Log(Function): forward and backward",
    steps=(op_steps("Exp", ("x",), smoke=_smoke_exp, cases=_cases(-3.0, 3.0), reference=lambda x: x.exp())
           + op_steps("Log", ("x",), smoke=_smoke_log, cases=_cases(0.1, 3.0), reference=lambda x: x.log())),
    hint="∂L/∂x = ∂L/∂z ⊙ eˣ for Exp (eˣ is the output z: save it) and ∂L/∂x = ∂L/∂z / x for Log",
    diagnose=diagnose, trace=trace)
