"""Exercise 3 · Summing a broadcast gradient back to its input's shape (what autograd does for every op)."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import (CheckFailed, Exercise, Step, assert_close, describe_shape, for_examples, is_array,
                        require_callable, student_code)

LEADING = ("sum over the leading axes too: broadcasting (3,) against (2, 3) adds a new first axis, and the "
           "input was used once per row, so its gradient is the sum over that axis (then no axis is left "
           "for it)")
STRETCHED = ("sum over the axes where the input has size 1 but the gradient does not, keeping them "
             "(keepdim=True): a (2, 1) input against (2, 3) was used 3 times per row")
MEAN = ("sum, do not average: a broadcast input is used once per copy, and the gradients of a value used "
        "several times add up")


def _cases():
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def cases(draw):
        full = draw(tgst.shapes(0, 4, max_side=3))
        dropped = draw(st.integers(0, len(full)))
        ones = draw(st.lists(st.booleans(), min_size=len(full) - dropped, max_size=len(full) - dropped))
        shape = tuple(1 if one else side for side, one in zip(full[dropped:], ones))
        return shape, draw(tgst.tensors(full))

    return cases()


def _expected(grad: tg.Tensor, shape: tuple) -> tg.Tensor:
    """The framework's answer: the gradient that reaches x after x.expand(grad's shape)."""
    x = tg.zeros(*shape, requires_grad=True) if shape else tg.tensor(0.0, requires_grad=True)
    x.expand(*grad.shape).backward(grad)
    return x.grad


def _call(ctx, fn, grad: tg.Tensor, shape: tuple):
    with student_code(ctx, "sum_to_shape"):
        out = fn(grad.data, shape)
    if not is_array(out):
        kind = "a Tensor" if isinstance(out, tg.Tensor) else type(out).__name__
        raise CheckFailed(f"sum_to_shape returned {kind}; it gets a backend array and returns one "
                          "(grad.sum(axes, keepdim=True), .reshape(shape))")
    return out


def first_call(module, ctx):
    fn = require_callable(module, "sum_to_shape", "sum_to_shape(grad, shape) -> array")
    with tg.use_backend("python"):
        grad = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        _call(ctx, fn, grad, (3,))


def values(module, ctx):
    fn = require_callable(module, "sum_to_shape", "sum_to_shape(grad, shape) -> array")

    def test(case, backend):
        shape, grad = case
        out = _call(ctx, fn, grad, shape)
        where = f"grad of {describe_shape(grad.shape)} to {shape}, {backend} backend"
        if tuple(out.shape) != tuple(shape):
            raise CheckFailed(f"sum_to_shape(grad, {shape}) returned {describe_shape(out.shape)} for a grad of "
                              f"{describe_shape(grad.shape)}; it must return the input's shape {shape} ({backend} "
                              "backend)")
        assert_close(out, _expected(grad, shape), "sum_to_shape's result", context=where)

    for_examples(ctx, _cases(), test)


def diagnose(module, ctx):
    grad = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    def attempt(shape, expected):
        try:
            out = module.sum_to_shape(grad.data, shape)
            return out.tolist() == expected, out.tolist()
        except Exception:
            return False, None

    row_ok, row = attempt((3,), [5.0, 7.0, 9.0])
    column_ok, column = attempt((2, 1), [[6.0], [15.0]])
    if row == [2.5, 3.5, 4.5] or column == [[2.0], [5.0]]:
        return MEAN
    if column_ok and not row_ok:
        return LEADING
    if row_ok and not column_ok:
        return STRETCHED
    return None


EXERCISE = Exercise(
    number=3, slug="unbroadcast", title="Sum a broadcast gradient back", lesson=2,
    task="sum_to_shape(grad, shape): undo broadcasting in a gradient",
    steps=[Step("returns a backend array", first_call),
           Step("equals the gradient autograd gives an expanded input", values)],
    hint="sum over the axes broadcasting added in front, and (keepdim=True) over the axes stretched from 1; "
         "then reshape to the input's shape",
    diagnose=diagnose)
