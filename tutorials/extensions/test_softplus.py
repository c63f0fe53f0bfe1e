"""Tests for the Softplus op, as a student writes them: values, gradients, layouts, backends, trace."""
from __future__ import annotations

import importlib.util
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.shapes import flatten
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as tgst

from softplus import Softplus, softplus

BACKENDS = ["python"] + (["numpy"] if importlib.util.find_spec("numpy") and
                         importlib.util.find_spec("tinygrad_edu.backend.numpy") else [])
few = settings(max_examples=25, deadline=None)


def reference(x: float) -> float:
    """ln(1 + eˣ) straight from the definition, with math.log1p for accuracy (fine for |x| ≤ 30)."""
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(x=tgst.tensors(low=-30.0, high=30.0))
def test_values_match_the_definition(backend, x):
    with tg.use_backend(backend):
        x = tg.tensor(x.tolist())
        got = softplus(x)
    for value, expected in zip(flatten(got.tolist())[0], flatten(x.tolist())[0]):
        assert value == pytest.approx(reference(expected), rel=1e-13, abs=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(x=tgst.tensors(requires_grad=True))      # any shape, contiguous or not
def test_gradient_matches_central_differences(backend, x):
    with tg.use_backend(backend):
        x = tg.tensor(x.tolist(), requires_grad=True) if backend != "python" else x
        assert gradcheck(softplus, x)


@few
@given(data=st.data())
def test_gradient_through_broadcasting(data):
    a_shape, b_shape = data.draw(tgst.broadcastable_shapes(2))
    a = data.draw(tgst.tensors(a_shape, requires_grad=True))
    b = data.draw(tgst.tensors(b_shape, requires_grad=True))
    assert gradcheck(lambda a, b: softplus(a * b), a, b)


def test_the_derivative_is_the_sigmoid():
    x = tg.tensor([-3.0, 0.0, 2.0], requires_grad=True)
    softplus(x).sum().backward()
    assert x.grad.tolist() == pytest.approx([1 / (1 + math.exp(3.0)), 0.5, 1 / (1 + math.exp(-2.0))])


@pytest.mark.parametrize("backend", BACKENDS)
def test_extreme_inputs_neither_overflow_nor_lose_the_small_tail(backend):
    with tg.use_backend(backend):
        x = tg.tensor([-1000.0, -40.0, 40.0, 1000.0], requires_grad=True)
        y = softplus(x)
        y.sum().backward()
    low, small, big, huge = y.tolist()
    assert low == 0.0                                 # e^-1000 underflows to 0: no NaN, no inf
    assert small == pytest.approx(math.exp(-40.0), rel=1e-13, abs=0.0)   # 1 + e^-40 rounds to 1
    assert big == pytest.approx(40.0, rel=1e-15, abs=0.0) and huge == 1000.0
    assert x.grad.tolist() == pytest.approx([0.0, math.exp(-40.0), 1.0, 1.0], rel=1e-12, abs=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
@few
@given(x=tgst.finite_floats(-700.0, -1.0))
def test_the_far_left_tail_keeps_all_its_digits(backend, x):
    with tg.use_backend(backend):
        value = softplus(tg.tensor([x])).item()
    assert value == pytest.approx(math.log1p(math.exp(x)), rel=1e-13, abs=0.0)


def test_trace_shows_the_op_with_its_formulas_and_my_names():
    pre = tg.tensor([0.0, 1.0], requires_grad=True).named("pre")
    with trace.record() as tape:
        softplus(pre).named("act").sum().backward()
    ops = [(event.phase, event.op) for event in tape]
    assert ("forward", "Softplus") in ops and ("backward", "Softplus") in ops
    forward = next(e for e in tape.forward if e.op == "Softplus")
    assert forward.formula == Softplus.formula
    assert forward.bound_formula() == "act = ln(1 + exp(pre))"
    backward = next(e for e in tape.backward if e.op == "Softplus")
    assert backward.formula == Softplus.derivative
    assert backward.bound_formula() == "∂L/∂pre = ∂L/∂act ⊙ σ(pre)"
