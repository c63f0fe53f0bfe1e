"""Exercise 11 · A superposition experiment: at which sparsity do two features share one dimension?"""
from __future__ import annotations

import functools

import tinygrad_edu as tg

from ..checking import (CheckFailed, Exercise, Step, assert_close, describe_shape, for_examples, require_callable,
                        student_code)

GRID = (0.0, 0.2, 0.4, 0.6, 0.8)
SEED = 0

NO_RELU = ("apply the ReLU: x′ = relu(x Wᵀ W + b). Without it the model is linear, and a linear model keeps only "
           "the m most important features: it never puts two features in one dimension")
ORDER = "x′ = relu((x @ W.T) @ W + b): compress with Wᵀ (x @ W.T is (batch, m)), then read back with W"
NEGATIVE_ONLY = ("antipodal means opposite: a cosine near −1 (below −0.9), not merely negative; "
                 "W = [[1, −1], [0, 1]] has cos = −0.71 between its columns and no antipodal pair")
UNREPRESENTED = ("count only represented features, ‖W_i‖ > 0.5: a feature whose column is tiny is not stored at "
                 "all, whatever its direction")
COLUMNS = ("feature i is column i of W (W has one row per hidden dimension, one column per feature): compare "
           "columns, not rows")
FIRST = "return the FIRST (smallest) sparsity of the list whose trained W has an antipodal pair"


def _reference_reconstruct(W, b, x):
    return ((x @ W.T) @ W + b).relu()


def _cases():
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def cases(draw):
        m, n, batch = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
        W = draw(tgst.tensors((m, n), requires_grad=True))
        b = draw(tgst.tensors((n,), requires_grad=True))
        x = draw(tgst.tensors((batch, n), low=0.0, high=1.0, requires_grad=True))
        return W, b, x

    return cases()


def reconstruct(module, ctx):
    fn = require_callable(module, "reconstruct", "reconstruct(W, b, x)")

    def test(case, backend):
        W, b, x = case
        copies = [tg.tensor(t.tolist(), requires_grad=True) for t in case]
        with student_code(ctx, "reconstruct"):
            out = fn(W, b, x)
        if not isinstance(out, tg.Tensor):
            raise CheckFailed(f"reconstruct returned {type(out).__name__}; expected a Tensor")
        expected = _reference_reconstruct(*copies)
        context = (f"W of {describe_shape(W.shape)}, b of {describe_shape(b.shape)}, x of "
                   f"{describe_shape(x.shape)}, {backend} backend")
        assert_close(out, expected, "reconstruct's value", context=context)
        weights = tg.tensor([[1.0 + 0.5 * j for j in range(out.shape[-1])]])
        with student_code(ctx, "backward through reconstruct"):
            (out * weights).sum().backward()
        (expected * weights).sum().backward()
        for name, mine, theirs in zip("Wbx", case, copies):
            if mine.grad is None:
                raise CheckFailed(f"reconstruct: no gradient reaches {name} ({context})")
            assert_close(mine.grad, theirs.grad, f"∂L/∂{name} through reconstruct", context=context)

    for_examples(ctx, _cases(), test)


PAIRS = [([[1.0, -1.0]], [(0, 1)]),
         ([[1.0, 0.9]], []),
         ([[1.0, -0.3]], []),
         ([[1.0, -1.0], [0.0, 1.0]], []),
         ([[0.8, -0.7, 0.0], [0.1, -0.1, 1.0]], [(0, 1)]),
         ([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]], [(1, 2)]),
         ([[0.0, 0.0], [0.0, 0.0]], [])]


def antipodal(module, ctx):
    fn = require_callable(module, "antipodal_pairs", "antipodal_pairs(W) -> list of (i, j)")
    for W, expected in PAIRS:
        with student_code(ctx, "antipodal_pairs"):
            got = fn(tg.tensor(W))
        if not isinstance(got, (list, tuple)):
            raise CheckFailed(f"antipodal_pairs returned {type(got).__name__}; expected a list of pairs (i, j)")
        try:
            pairs = sorted(tuple(sorted((int(i), int(j)))) for i, j in got)
        except (TypeError, ValueError):
            raise CheckFailed(f"antipodal_pairs returned {got!r}; expected a list of pairs (i, j)") from None
        if pairs != expected:
            raise CheckFailed(f"antipodal_pairs(W = {W}) returned {pairs}, expected {expected}")


@functools.lru_cache(maxsize=None)
def _expected(backend: str):
    from ..solutions import ex11_superposition as reference
    with tg.use_backend(backend):
        return reference.first_antipodal_sparsity(list(GRID), seed=SEED)


def outcome(module, ctx):
    fn = require_callable(module, "first_antipodal_sparsity", "first_antipodal_sparsity(sparsities, seed=0)")
    for backend in ctx.backends:
        with tg.use_backend(backend):
            with student_code(ctx, "first_antipodal_sparsity"):
                got = fn(list(GRID), seed=SEED)
        expected = _expected(backend)
        if got != expected:
            raise CheckFailed(f"first_antipodal_sparsity({list(GRID)}, seed={SEED}) returned {got!r}; the reference "
                              f"experiment finds the two features antipodal first at sparsity {expected} "
                              f"({backend} backend)", FIRST if got in GRID and got > expected else None)


def diagnose(module, ctx):
    W = tg.tensor([[1.0, -1.0]])                 # one feature up, the other down: the ReLU cuts one off
    b = tg.tensor([0.1, -0.2])
    x = tg.tensor([[0.5, 1.0], [1.0, 0.0]])
    try:
        got = module.reconstruct(W, b, x).tolist()
    except Exception:
        return ORDER
    if got != _reference_reconstruct(W, b, x).tolist():
        return NO_RELU if got == ((x @ W.T) @ W + b).tolist() else ORDER
    checks = [([[1.0, -1.0], [0.0, 1.0]], NEGATIVE_ONLY), ([[1.0, -0.3]], UNREPRESENTED),
              ([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]], COLUMNS)]
    for W_rows, hint in checks:
        expected = [p for rows, p in PAIRS if rows == W_rows][0]
        pairs = sorted(tuple(sorted(p)) for p in module.antipodal_pairs(tg.tensor(W_rows)))
        if pairs != expected:
            return hint
    return None


def trace(module):
    W = tg.tensor([[1.0, -0.9]], requires_grad=True).named("W")
    b = tg.tensor([0.0, 0.0], requires_grad=True).named("b")
    x = tg.tensor([[1.0, 0.0], [0.0, 0.5]]).named("x")
    out = module.reconstruct(W, b, x).named("x_hat")
    err = (x - out).named("err")
    return (err * err).sum().named("L")


EXERCISE = Exercise(
    number=11, slug="superposition", title="A superposition experiment", lesson=7,
    task="reconstruct, antipodal_pairs, first_antipodal_sparsity: two features in one dimension",
    steps=[Step("reconstruct's value and gradients equal the toy model's", reconstruct),
           Step("antipodal_pairs on known matrices", antipodal),
           Step("first_antipodal_sparsity finds the sparsity of the reference experiment", outcome)],
    hint="x′ = relu(x Wᵀ W + b); a pair is antipodal when both columns have norm > 0.5 and cosine < −0.9; "
         "train at each sparsity in order and return the first with a pair",
    diagnose=diagnose, trace=trace)
