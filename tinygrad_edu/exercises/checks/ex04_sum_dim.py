"""Exercise 4 · Sum over a dim (with keepdim) backward: every summed element receives the whole gradient."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import Exercise
from ._ops import OpCase, op_steps, probe

REINSERT = ("with keepdim=False the summed axis is gone from grad: put it back as a size-1 axis "
            "(grad.reshape(...) with a 1 at dim) before expanding grad to x's shape")
MEAN = ("that is the gradient of a mean: in a sum every element moves the total by exactly as much as "
        "itself, so each receives the whole ∂L/∂z (no division by the count)")
KEEPDIM_FORWARD = ("forward must keep the summed axis as size 1 when keepdim=True: x.sum((dim,), keepdim) "
                   "(the backend's sum takes a tuple of axes)")
NOT_EXPANDED = ("expand the gradient to x's shape (grad.expand(x's shape)): each of the summed elements "
                "receives it")


def _smoke():
    return [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]], {"dim": 1, "keepdim": False}


def _cases():
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def cases(draw):
        shape = draw(tgst.shapes(1, 3, max_side=3))
        x = draw(tgst.tensors(shape, requires_grad=True))
        return OpCase(("x",), (x,), {"dim": draw(st.integers(0, len(shape) - 1)), "keepdim": draw(st.booleans())})

    return cases()


def diagnose(module, ctx):
    x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    out, _ = probe(module.Sum, [x], {"dim": 1, "keepdim": True}, grad=[[10.0], [100.0]])
    if out == [6.0, 15.0]:
        return KEEPDIM_FORWARD
    _, (g,) = probe(module.Sum, [x], {"dim": 1, "keepdim": True}, grad=[[10.0], [100.0]])
    if g == [[10.0 / 3] * 3, [100.0 / 3] * 3]:
        return MEAN
    if g == [[10.0], [100.0]]:
        return NOT_EXPANDED
    if g != [[10.0] * 3, [100.0] * 3]:
        return None
    try:    # right with keepdim=True: then a wrong answer without it is the missing axis
        _, (g,) = probe(module.Sum, [x], {"dim": 1, "keepdim": False}, grad=[10.0, 100.0])
    except Exception:
        return REINSERT
    return REINSERT if g != [[10.0] * 3, [100.0] * 3] else None


def trace(module):
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True).named("x")
    rows = module.Sum.apply(x, dim=1, keepdim=False).named("rows")
    w = tg.tensor([1.0, -2.0]).named("w")
    return (rows * w).sum().named("L")


EXERCISE = Exercise(
    number=4, slug="sum_dim", title="Sum over a dim backward", lesson=2,
    task="class Sum(Function): z = Σ over one axis of x, keepdim or not",
    steps=op_steps("Sum", ("x",), options=("dim", "keepdim"), smoke=_smoke, cases=_cases,
                   reference=lambda x, dim, keepdim: x.sum(dim, keepdim=keepdim)),
    hint="∂L/∂x = ∂L/∂z repeated along the summed axis: give grad its size-1 axis back (if keepdim was "
         "False), then expand it to x's shape",
    diagnose=diagnose, trace=trace)
