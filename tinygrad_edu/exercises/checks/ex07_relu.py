"""Exercise 7 · ReLU and the kink: the gradient passes where x > 0, and relu'(0) = 0 by convention."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import CheckFailed, Exercise, Step, require_function_class, student_code, values_of
from ._ops import op_steps, probe, tensor_cases

KINK = ("relu has no derivative at 0 (a kink); this framework, like PyTorch, uses relu'(0) = 0: pass the "
        "gradient only where x > 0 (you used x >= 0)")
NO_GRAD = "multiply by grad (∂L/∂z): you returned the mask [x > 0] alone, which is ∂z/∂x, not ∂L/∂x"
WRONG_SIDE = "the gradient passes where the neuron is on, x > 0, and is 0 where x < 0 (you have it reversed)"


def _smoke():
    return [[[1.0, -2.0, 3.0], [-0.5, 0.25, -4.0]]], {}


def _cases():
    from tinygrad_edu.testing import strategies as tgst
    return tensor_cases(("x",), tgst.shapes(0, 3, max_side=3).map(lambda s: (s,)),
                        tgst.nonzero_floats(margin=0.1, high=3.0))


def kink(module, ctx):
    op = require_function_class(module, "ReLU")
    for backend in ctx.backends:
        with tg.use_backend(backend):
            x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
            with student_code(ctx, "ReLU"):
                z = op.apply(x)
                z.backward(tg.tensor([1.0, 1.0, 1.0]))
            if values_of(z) != [0.0, 0.0, 2.0]:
                raise CheckFailed(f"ReLU.apply([-1, 0, 2]) gave {values_of(z)}, expected [0, 0, 2] ({backend} backend)")
            grad = values_of(x.grad) if x.grad is not None else None
            if grad != [0.0, 0.0, 1.0]:
                raise CheckFailed(f"at x = [-1, 0, 2] your gradient is {grad}, expected [0, 0, 1]: relu'(0) = 0 "
                                  f"({backend} backend)", KINK if grad == [0.0, 1.0, 1.0] else None)


def diagnose(module, ctx):
    _, (g,) = probe(module.ReLU, [[-1.0, 2.0]], grad=[10.0, 100.0])
    if g == [0.0, 1.0]:
        return NO_GRAD
    if g == [10.0, 0.0]:
        return WRONG_SIDE
    _, (g,) = probe(module.ReLU, [[0.0]], grad=[10.0])
    if g == [10.0]:
        return KINK
    return None


def trace(module):
    x = tg.tensor([1.5, -0.5, 0.0, 2.0], requires_grad=True).named("x")
    h = module.ReLU.apply(x).named("h")
    w = tg.tensor([1.0, 2.0, 3.0, -1.0]).named("w")
    return (h * w).sum().named("L")


EXERCISE = Exercise(
    number=7, slug="relu", title="ReLU and the kink", lesson=3,
    task="class ReLU(Function): z = max(x, 0), with relu'(0) = 0",
    steps=op_steps("ReLU", ("x",), smoke=_smoke, cases=_cases, reference=lambda x: x.relu(),
                   extra=[Step("relu'(0) = 0, exactly", kink)]),
    hint="∂L/∂x = ∂L/∂z ⊙ [x > 0]: save x; (x > 0) is an array of booleans that multiplies as 0 and 1",
    diagnose=diagnose, trace=trace)
