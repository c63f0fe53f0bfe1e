"""Exercise 13 · Strides: where a shape finds its numbers, and how a permute moves no data."""
from __future__ import annotations

import tinygrad_edu as tg

from ..checking import CheckFailed, Exercise, Step, for_examples, require_callable, student_code

COLUMN_MAJOR = ("those are column-major strides (the first axis moving fastest); here, as in NumPy and "
                "PyTorch, the LAST axis moves fastest: its stride is 1 and each earlier stride is the product "
                "of the sizes after it")
INVERSE_ORDER = ("axis k of the permuted view is axis order[k] of the original, so new_shape[k] = "
                 "shape[order[k]] and new_strides[k] = strides[order[k]] (you applied the inverse order)")
FROM_THE_LEFT = ("build the strides from the right: the last axis has stride 1, the one before it the last "
                 "size, and so on; for shape (2, 3, 4) that is (12, 4, 1), not (6, 2, 1)")
OFF_BY_ONE = ("each stride is the product of the sizes AFTER its axis, not including its own: for shape "
              "(2, 3, 4) the strides are (3·4, 4, 1) = (12, 4, 1)")


def _ints(value, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                      for v in value):
        raise CheckFailed(f"{what} returned {value!r}; expected a tuple of ints")
    return tuple(value)


def _shapes():
    from tinygrad_edu.testing import strategies as tgst
    return tgst.shapes(min_dims=0, max_dims=4, max_side=5)


def row_major(module, ctx):
    fn = require_callable(module, "row_major_strides", "row_major_strides(shape) -> tuple")
    with student_code(ctx, "row_major_strides"):
        got = fn((2, 3, 4))
    _ints(got, "row_major_strides((2, 3, 4))")

    def test(shape, backend):
        with student_code(ctx, "row_major_strides"):
            got = _ints(fn(tuple(shape)), f"row_major_strides({tuple(shape)})")
        expected = tg.zeros(*shape).strides() if shape else ()
        if got != tuple(expected):
            raise CheckFailed(f"row_major_strides({tuple(shape)}) returned {got}; a fresh tensor of that shape "
                              f"has strides {tuple(expected)} ({backend} backend)")

    for_examples(ctx, _shapes(), test)


def permuted(module, ctx):
    from hypothesis import strategies as st
    fn = require_callable(module, "permuted", "permuted(shape, strides, order) -> (shape, strides)")

    @st.composite
    def cases(draw):
        shape = draw(_shapes())
        return tuple(shape), tuple(draw(st.permutations(range(len(shape)))))

    def test(case, backend):
        shape, order = case
        t = tg.zeros(*shape) if shape else tg.tensor(0.0)
        view = t.permute(order) if shape else t
        with student_code(ctx, "permuted"):
            got = fn(shape, tuple(t.strides()), order)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise CheckFailed(f"permuted(...) returned {got!r}; expected a pair (shape, strides)")
        new_shape, new_strides = (_ints(g, "permuted") for g in got)
        if (new_shape, new_strides) != (tuple(view.shape), tuple(view.strides())):
            raise CheckFailed(f"permuted({shape}, {tuple(t.strides())}, {order}) returned shape {new_shape} "
                              f"and strides {new_strides}; t.permute{order} has shape {tuple(view.shape)} and "
                              f"strides {tuple(view.strides())} ({backend} backend)")

    for_examples(ctx, cases(), test)


def diagnose(module, ctx):
    got = tuple(module.row_major_strides((2, 3, 4)))
    if got == (1, 2, 6):
        return COLUMN_MAJOR
    if got == (24, 12, 4):
        return OFF_BY_ONE
    if got == (6, 2, 1):
        return FROM_THE_LEFT
    if got == (12, 4, 1):
        shape, strides = module.permuted((2, 3, 4), (12, 4, 1), (1, 2, 0))
        if tuple(shape) == (4, 2, 3) or tuple(strides) == (1, 12, 4):
            return INVERSE_ORDER
    return None


EXERCISE = Exercise(
    number=13, slug="strides", title="Strides and permuted views", lesson=9,
    task="row_major_strides(shape) and permuted(shape, strides, order)",
    steps=[Step("row_major_strides equals a fresh tensor's strides", row_major),
           Step("permuted equals t.permute(order)'s shape and strides", permuted)],
    hint="the last axis has stride 1; each earlier stride is the product of the sizes after it; a permute "
         "reorders shape and strides together",
    diagnose=diagnose)
