"""Tests for SmoothMLPBlock: its shape, its parameters, its gradients, and that it matches the formula."""
from __future__ import annotations

import importlib.util
import math

import pytest
from hypothesis import given, settings

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as tgst

from smooth_block import SmoothMLPBlock, example

BACKENDS = ["python"] + (["numpy"] if importlib.util.find_spec("numpy") and
                         importlib.util.find_spec("tinygrad_edu.backend.numpy") else [])


def test_parameters_are_those_of_two_linear_layers():
    block = SmoothMLPBlock(3, 12)
    shapes = {name: p.shape for name, p in block.named_parameters()}
    assert shapes == {"up.weight": (12, 3), "up.bias": (12,), "down.weight": (3, 12), "down.bias": (3,)}
    assert block.num_parameters() == 2 * 3 * 12 + 12 + 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_output_is_the_formula_written_out_by_hand(backend):
    with tg.use_backend(backend):
        block = SmoothMLPBlock(2, 3, seed=4)
        x = tg.tensor([[0.5, -1.5]])
        out = block(x).tolist()[0]
    w_up, b_up = block.up.weight.tolist(), block.up.bias.tolist()
    w_down, b_down = block.down.weight.tolist(), block.down.bias.tolist()
    h = [math.log1p(math.exp(sum(w * v for w, v in zip(row, [0.5, -1.5])) + b)) for row, b in zip(w_up, b_up)]
    expected = [xi + sum(w * hj for w, hj in zip(row, h)) + b for xi, row, b in zip([0.5, -1.5], w_down, b_down)]
    assert out == pytest.approx(expected, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(x=tgst.tensors(tgst.shapes(min_dims=2, max_dims=2, max_side=3).map(lambda s: s[:1] + (2,)),
                      requires_grad=True))
def test_gradients_of_input_and_parameters_match_central_differences(x):
    block = SmoothMLPBlock(2, 3, seed=1)
    assert gradcheck(lambda x, w, b: _run_with(block, x, w, b), x, block.up.weight, block.down.bias)


def _run_with(block, x, up_weight, down_bias):
    """The block with two of its parameters swapped for gradcheck's perturbed copies.

    A parameter's place takes only a Parameter (as in PyTorch), so the copies, plain tensors whose
    values are all the numerical slope needs, are wrapped; the originals go in as they are."""
    saved = block.up.weight, block.down.bias
    block.up.weight, block.down.bias = _as_parameter(up_weight), _as_parameter(down_bias)
    try:
        return (block(x) ** 2).sum()
    finally:
        block.up.weight, block.down.bias = saved


def _as_parameter(t):
    return t if isinstance(t, nn.Parameter) else nn.Parameter(t)


def test_every_neuron_passes_some_gradient_even_when_below_zero():
    block = SmoothMLPBlock(3, 8, seed=0)
    state = block.state_dict()
    state["up.bias"] = tg.full((8,), -6.0)      # push every neuron far below zero
    block.load_state_dict(state)
    x = tg.tensor([[0.1, 0.2, 0.3]])
    block(x).sum().backward()
    assert all(abs(g) > 0 for g in block.up.bias.grad.tolist())


def test_example_for_the_trace_command_returns_a_loss_and_the_block():
    result = example()
    assert set(result) == {"loss", "modules"}
    assert result["loss"].shape == () and result["loss"].requires_grad
