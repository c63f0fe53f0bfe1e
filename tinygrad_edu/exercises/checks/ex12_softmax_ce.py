"""Exercise 12 · A stable softmax and cross-entropy, composed from primitives (no backward to write)."""
from __future__ import annotations

import math

import tinygrad_edu as tg
import tinygrad_edu.functional as F

from ..checking import (CheckFailed, Exercise, Step, assert_close, describe_shape, for_examples, require_callable,
                        student_code, values_of)

OVERFLOW = ("e¹⁰⁰⁰ overflows to inf, and inf / inf is nan: subtract each row's max first, "
            "softmax(x) = exp(x − m) / Σ exp(x − m) with m = x.max(dim, keepdim=True): the same value, and no "
            "exponent above 0")
LOG_UNDERFLOW = ("log(softmax(x)) underflows: softmax of a logit 1000 below the others is 0 in float64, and "
                 "log 0 = −inf. Write log_softmax(x) = (x − m) − log Σ exp(x − m) instead: no log of a tiny number")
DIM = ("normalise along dim only: sums and maxima with keepdim=True (x.sum(dim, keepdim=True)) keep the axis, "
       "so they broadcast back against x")
SIGN = "cross-entropy is −log p(target): the negative log-probability (you returned +log p)"
MEAN = "average over the batch (.mean()), as F.cross_entropy does: the loss of N examples is their mean, not their sum"

HUGE = [[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]]


def _cases():
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def cases(draw):
        shape = draw(tgst.shapes(1, 3, max_side=4))
        x = draw(tgst.tensors(shape, low=-5.0, high=5.0, requires_grad=True))
        return x, draw(st.integers(-len(shape), len(shape) - 1))

    return cases()


def _ce_cases():
    from hypothesis import strategies as st

    from tinygrad_edu.testing import strategies as tgst

    @st.composite
    def cases(draw):
        n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
        logits = draw(tgst.tensors((n, c), low=-5.0, high=5.0, requires_grad=True))
        return logits, draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))

    return cases()


def _check_function(ctx, fn, name: str, reference):
    def test(case, backend):
        x, dim = case
        copy = tg.tensor(x.tolist(), requires_grad=True)
        with student_code(ctx, name):
            out = fn(x, dim=dim)
        if not isinstance(out, tg.Tensor):
            raise CheckFailed(f"{name} returned {type(out).__name__}; expected a Tensor")
        expected = reference(copy, dim=dim)
        context = f"x of {describe_shape(x.shape)}, dim={dim}, {backend} backend"
        assert_close(out, expected, f"{name}'s value", context=context)
        weights = tg.tensor([0.5 + 0.75 * j for j in range(out.shape[-1])])
        with student_code(ctx, f"backward through {name}"):
            (out * weights).sum().backward()
        (expected * weights).sum().backward()
        if x.grad is None:
            raise CheckFailed(f"no gradient reaches x through {name} ({context}): build it from Tensor ops")
        assert_close(x.grad, copy.grad, f"∂L/∂x through {name}", context=context)

    for_examples(ctx, _cases(), test)


def softmax(module, ctx):
    _check_function(ctx, require_callable(module, "softmax", "softmax(x, dim=-1)"), "softmax", F.softmax)


def log_softmax(module, ctx):
    _check_function(ctx, require_callable(module, "log_softmax", "log_softmax(x, dim=-1)"), "log_softmax",
                    F.log_softmax)


def cross_entropy(module, ctx):
    fn = require_callable(module, "cross_entropy", "cross_entropy(logits, targets)")

    def test(case, backend):
        logits, targets = case
        copy = tg.tensor(logits.tolist(), requires_grad=True)
        with student_code(ctx, "cross_entropy"):
            loss = fn(logits, tg.tensor(targets))
        if not isinstance(loss, tg.Tensor) or loss.numel() != 1:
            what = f"shape {tuple(loss.shape)}" if isinstance(loss, tg.Tensor) else type(loss).__name__
            raise CheckFailed(f"cross_entropy returned {what}; expected one number (a 0-d Tensor): the mean loss")
        expected = F.cross_entropy(copy, tg.tensor(targets))
        context = f"logits of {describe_shape(logits.shape)}, targets {targets}, {backend} backend"
        assert_close(loss.reshape(()), expected, "cross_entropy's value", context=context)
        with student_code(ctx, "backward through cross_entropy"):
            loss.sum().backward()
        expected.backward()
        assert_close(logits.grad, copy.grad, "∂L/∂logits through cross_entropy", context=context)

    for_examples(ctx, _ce_cases(), test)


def huge_logits(module, ctx):
    for backend in ctx.backends:
        with tg.use_backend(backend):
            context = f"logits {HUGE}, {backend} backend"
            for name, reference in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
                fn = getattr(module, name)
                x = tg.tensor(HUGE, requires_grad=True)
                with student_code(ctx, name):
                    out = fn(x, dim=-1)
                    out.sum().backward()
                got = values_of(out)
                if any(math.isnan(v) or math.isinf(v) for v in got):
                    raise CheckFailed(f"{name} of logits as large as 1000 gives {got} ({backend} backend)",
                                      OVERFLOW if any(math.isnan(v) for v in got) else LOG_UNDERFLOW)
                assert_close(out, reference(tg.tensor(HUGE), dim=-1), f"{name}'s value", context=context)
                grads = values_of(x.grad) if x.grad is not None else []
                if any(math.isnan(v) or math.isinf(v) for v in grads):
                    raise CheckFailed(f"the gradient through {name} of logits as large as 1000 is {grads} "
                                      f"({backend} backend)", OVERFLOW)
            logits = tg.tensor(HUGE, requires_grad=True)
            with student_code(ctx, "cross_entropy"):
                loss = module.cross_entropy(logits, tg.tensor([2, 0]))
            value = loss.reshape(()).item()
            if math.isnan(value) or math.isinf(value):
                raise CheckFailed(f"cross_entropy of logits as large as 1000 is {value} ({backend} backend)",
                                  LOG_UNDERFLOW if math.isinf(value) else OVERFLOW)
            assert_close(loss.reshape(()), F.cross_entropy(tg.tensor(HUGE), tg.tensor([2, 0])),
                         "cross_entropy's value", context=context)


def diagnose(module, ctx):
    x = tg.tensor([[1.0, 2.0, 3.0], [0.0, 0.5, -1.0]])
    s = module.softmax(x, dim=-1).tolist()
    whole = (x.exp() / x.exp().sum()).tolist()
    if all(abs(a - b) < 1e-9 for ra, rb in zip(s, whole) for a, b in zip(ra, rb)):
        return DIM
    try:
        loss = module.cross_entropy(x, tg.tensor([2, 0])).reshape(()).item()
    except Exception:
        return None
    ref = F.cross_entropy(x, tg.tensor([2, 0])).item()
    if abs(loss + ref) < 1e-9:
        return SIGN
    if abs(loss - 2 * ref) < 1e-9:
        return MEAN
    return None


def trace(module):
    logits = tg.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]], requires_grad=True).named("logits")
    return module.cross_entropy(logits, tg.tensor([0, 2])).named("L")


EXERCISE = Exercise(
    number=12, slug="softmax_ce", title="A stable softmax and cross-entropy", lesson=8,
    task="softmax, log_softmax and cross_entropy from Tensor ops, finite at logits of 1000",
    steps=[Step("softmax's value and gradient equal F.softmax's", softmax),
           Step("log_softmax's value and gradient equal F.log_softmax's", log_softmax),
           Step("cross_entropy's value and gradient equal F.cross_entropy's", cross_entropy),
           Step("logits of ±1000: finite values and gradients", huge_logits)],
    hint="m = x.max(dim, keepdim=True); log_softmax = (x − m) − log Σ exp(x − m); softmax = its exp; "
         "cross_entropy = −mean of log_softmax at the targets (F.one_hot picks them)",
    diagnose=diagnose, trace=trace)
