"""compare_with_torch: the same function here and in PyTorch; agreement passes, any difference is named.

Skipped without PyTorch (tests/test_interop_without_torch.py checks the error then).
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Function, nn  # noqa: E402
from tinygrad_edu.testing import TorchComparison, TorchMismatchError, compare_with_torch  # noqa: E402
from tinygrad_edu.testing import strategies as tgst  # noqa: E402
from tinygrad_edu.interop import weight_pairs  # noqa: E402
from tinygrad_edu.testing.torch_compare import TorchRunError, projection_weights  # noqa: E402

FUNCTIONS = {
    "tanh of a product, summed over rows": lambda x, w: (x @ w).tanh().sum(dim=1),
    "a softmax written with methods": lambda x, w: (x @ w).exp() / (x @ w).exp().sum(dim=-1, keepdim=True),
    "a mean of squares": lambda x, w: ((x @ w) ** 2).mean(),
    "sigmoid and a transpose": lambda x, w: (x.T.sigmoid() * 2.0 - w.sum()),
}


@st.composite
def operands(draw):
    """x (n, k) and w (k, m), float64, requiring grad, on a drawn backend."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    backend = draw(st.sampled_from(["python", "numpy"] if _have_numpy() else ["python"]))
    with tg.use_backend(backend):
        x = draw(tgst.tensors((n, k), requires_grad=True))
        w = draw(tgst.tensors((k, m), requires_grad=True))
    return x, w


def _have_numpy() -> bool:
    import importlib.util
    return importlib.util.find_spec("numpy") is not None


@pytest.mark.parametrize("name", list(FUNCTIONS))
@given(pair=operands())
def test_functions_written_once_agree_in_values_and_gradients(name, pair):
    x, w = pair
    report = compare_with_torch(FUNCTIONS[name], x, w)
    assert isinstance(report, TorchComparison) and report
    assert [c.what for c in report.checks] == ["output", "∂L/∂input 0", "∂L/∂input 1"]
    assert x.grad is None and w.grad is None, "the comparison leaves the inputs' gradients as they were"


def _flat(t):
    return t.detach().reshape(-1).tolist()


class SquareMissingTwo(Function):
    """z = x² with a wrong derivative: ∂L/∂x = ∂L/∂z · x (the 2 forgotten)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x


@given(x=tgst.tensors(tgst.shapes(min_dims=1, max_dims=2, max_side=4), elements=tgst.nonzero_floats(margin=0.1),
                      requires_grad=True))
def test_a_wrong_backward_is_named_with_the_worst_element_and_both_values(x):
    with pytest.raises(TorchMismatchError) as info:
        compare_with_torch(SquareMissingTwo.apply, x, torch_fn=lambda t: t * t)
    report = info.value.report
    output, gradient = report.checks
    assert output.ok and output.max_difference == 0.0
    assert not gradient.ok and gradient.what == "∂L/∂input 0"
    # Found independently: with the weights w of L = Σ w·z, torch's gradient is 2·x·w and the one here
    # x·w, so the worst element is where |x·w| is largest; both values there are reported.
    weights = projection_weights(x.numel())
    theirs = [2 * v * w for v, w in zip(_flat(x), weights)]
    worst = max(range(len(theirs)), key=lambda k: abs(theirs[k]))
    assert gradient.theirs == pytest.approx(theirs[worst], rel=1e-12)
    assert gradient.ours == pytest.approx(theirs[worst] / 2, rel=1e-12)
    assert gradient.max_difference == pytest.approx(abs(theirs[worst]) / 2, rel=1e-12)
    assert tuple(gradient.where) == _unravel(worst, tuple(x.shape))
    message = str(info.value)
    assert "1 of 2 checks differ from PyTorch" in message and "DIFFERS  ∂L/∂input 0" in message
    assert str(tuple(gradient.where)) in message


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for side in reversed(shape):
        index.append(k % side)
        k //= side
    return tuple(reversed(index))


def test_a_wrong_forward_value_is_named_with_its_place():
    x = tg.tensor([[0.5, 1.0], [2.0, -1.0]], requires_grad=True)
    with pytest.raises(TorchMismatchError) as info:
        compare_with_torch(lambda t: t.exp(), x, torch_fn=lambda t: t.exp() + (t > 1.5).to(t.dtype) * 0.25)
    output = info.value.report.checks[0]
    assert output.what == "output" and not output.ok
    assert output.where == (1, 0) and output.max_difference == pytest.approx(0.25)
    assert output.ours == pytest.approx(math.exp(2.0)) and output.theirs == pytest.approx(math.exp(2.0) + 0.25)


def test_shapes_that_differ_are_a_failed_check_not_a_crash():
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    with pytest.raises(TorchMismatchError, match=r"shape \(3,\) here, \(1, 3\) in torch"):
        compare_with_torch(lambda t: t.reshape(3), x, torch_fn=lambda t: t * 1.0)
    with pytest.raises(TorchMismatchError, match="fn returned 1 outputs here, 2 in torch"):
        compare_with_torch(lambda t: t * 2, x, torch_fn=lambda t: (t * 2, t))


def test_a_function_torch_cannot_run_says_to_pass_torch_fn():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TorchRunError, match="fn failed on torch tensors.*torch_fn="):
        compare_with_torch(lambda t: tg.functional.softmax(t, dim=0), x)


def test_torch_max_over_a_dim_compares_its_values():
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 4.0]], requires_grad=True)
    report = compare_with_torch(lambda t: t.max(dim=1), x)
    assert report.checks[0].max_difference == 0.0 and report


def test_several_outputs_and_inputs_that_need_no_gradient():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    scale = tg.tensor([2.0, 2.0, 2.0])           # no gradient wanted: not checked
    report = compare_with_torch(lambda a, s, k: (a * s, (a * k).relu()), x, scale, 3.0)
    assert [c.what for c in report.checks] == ["output 0", "output 1", "∂L/∂input 0"]


@pytest.mark.parametrize("make", [lambda: nn.Linear(3, 2, seed=0),
                                  lambda: nn.MLPBlock(3, 5, activation="gelu", seed=1),
                                  lambda: nn.TransformerBlock(4, 2, 6, seed=2)])
def test_a_module_is_compared_with_its_torch_equivalent_weights_included(make):
    module = make()
    d = module.in_features if isinstance(module, nn.Linear) else 4 if isinstance(module, nn.TransformerBlock) else 3
    x = tg.randn(2, d, seed=5, requires_grad=True)
    report = compare_with_torch(module, x)
    names = [c.what for c in report.checks]
    assert names[:2] == ["output", "∂L/∂input 0"]
    assert len(names) == 2 + len(weight_pairs(module))
    assert report.max_difference <= 1e-12
    assert all(p.grad is None for p in module.parameters()), "the module's gradients are left as they were"


def test_the_report_prints_as_a_table():
    x = tg.tensor([0.5, -0.5], requires_grad=True)
    text = str(compare_with_torch(lambda t: t.tanh(), x))
    lines = text.splitlines()
    assert lines[0].startswith("compare_with_torch: all 2 checks agree with PyTorch")
    assert lines[1].split() == ["compared", "shape", "max", "|ours", "−", "torch|", "at", "ours", "there", "torch",
                                "there"]
    assert lines[2].startswith("ok  output") and lines[3].startswith("ok  ∂L/∂input 0")
