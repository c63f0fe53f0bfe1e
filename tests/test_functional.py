"""tinygrad_edu.functional: composite functions, their properties, their values and their gradients."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as tgst

pytestmark = pytest.mark.usefixtures("backend")

MATRICES = tgst.shapes(1, 3, 1, 4)


def flat(values):
    if not isinstance(values, list):
        return [values]
    return [v for item in values for v in flat(item)]


def rows(t):
    """The last-axis rows of a tensor, as lists."""
    shape = t.shape
    values = flat(t.tolist())
    n = shape[-1]
    return [values[i:i + n] for i in range(0, len(values), n)]


def softmax_reference(row):
    m = max(row)
    exps = [math.exp(v - m) for v in row]
    total = math.fsum(exps)
    return [e / total for e in exps]


def logsumexp_reference(row):
    m = max(row)
    return m + math.log(math.fsum(math.exp(v - m) for v in row))


def assert_close(actual, expected, tol=1e-12):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert math.isclose(a, e, rel_tol=tol, abs_tol=tol), (actual, expected)


# ---- softmax family ---------------------------------------------------------------------------


@given(tgst.tensors(MATRICES, low=-30.0, high=30.0))
def test_softmax_rows_are_probabilities(x):
    p = F.softmax(x, dim=-1)
    assert p.shape == x.shape
    for row, x_row in zip(rows(p), rows(x)):
        assert math.isclose(math.fsum(row), 1.0, rel_tol=1e-12)
        assert all(0.0 <= v <= 1.0 for v in row)
        assert_close(row, softmax_reference(x_row))


@given(tgst.tensors(tgst.shapes(2, 3, 1, 3)), st.data())
def test_softmax_over_any_dim_sums_to_one(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    totals = F.softmax(x, dim=dim).sum(dim=dim)
    assert_close(flat(totals.tolist()), [1.0] * totals.numel())


@given(tgst.tensors(MATRICES, low=-20.0, high=20.0))
def test_log_softmax_is_log_of_softmax(x):
    expected = [math.log(v) for v in flat(F.softmax(x, dim=-1).tolist())]
    assert_close(flat(F.log_softmax(x, dim=-1).tolist()), expected, 1e-10)


@given(tgst.tensors(MATRICES), st.booleans())
def test_logsumexp_against_math(x, keepdim):
    out = F.logsumexp(x, dim=-1, keepdim=keepdim)
    assert out.shape == (x.shape[:-1] + (1,) if keepdim else x.shape[:-1])
    assert_close(flat(out.tolist()), [logsumexp_reference(r) for r in rows(x)])


def test_logsumexp_is_stable_at_plus_and_minus_1000():
    x = Tensor([[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0]], requires_grad=True)
    out = F.logsumexp(x, dim=1)
    assert_close(out.tolist(), [1000.0 + math.log(2.0), -1000.0 + math.log(2.0), 1000.0])
    out.sum().backward()
    assert_close(flat(x.grad.tolist()), [0.5, 0.5, 0.5, 0.5, 1.0, 0.0])   # grad = softmax


def test_softmax_and_log_softmax_are_stable_at_1000():
    x = Tensor([[1000.0, 0.0, -1000.0]])
    assert_close(F.softmax(x).tolist()[0], [1.0, 0.0, 0.0])
    assert_close(F.log_softmax(x).tolist()[0], [0.0, -1000.0, -2000.0])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@given(x=tgst.tensors(tgst.shapes(1, 3, 1, 3), requires_grad=True), data=st.data())
def test_softmax_family_gradients(name, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    fn = getattr(F, name)
    assert gradcheck(lambda t: fn(t, dim=dim), x)


# ---- losses -----------------------------------------------------------------------------------


@st.composite
def logits_and_targets(draw, max_batch=4, max_classes=4):
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, max_classes))
    logits = draw(tgst.tensors((n, c), low=-5.0, high=5.0, requires_grad=True))
    targets = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return logits, targets


@given(logits_and_targets(), st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_against_math(pair, reduction):
    logits, targets = pair
    target = Tensor(targets, dtype=tg.int64)
    losses = [logsumexp_reference(row) - row[t] for row, t in zip(logits.tolist(), targets)]
    out = F.cross_entropy(logits, target, reduction=reduction)
    if reduction == "mean":
        assert math.isclose(out.item(), math.fsum(losses) / len(losses), rel_tol=1e-12, abs_tol=1e-12)
    elif reduction == "sum":
        assert math.isclose(out.item(), math.fsum(losses), rel_tol=1e-12, abs_tol=1e-12)
    else:
        assert_close(out.tolist(), losses)
    assert gradcheck(lambda t: F.cross_entropy(t, target, reduction=reduction), logits)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    logits = Tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], requires_grad=True)
    F.cross_entropy(logits, Tensor([0, 1], dtype=tg.int64)).backward()
    expected = []
    for row, t in zip(logits.tolist(), [0, 1]):
        p = softmax_reference(row)
        expected += [(p[j] - (1.0 if j == t else 0.0)) / 2 for j in range(3)]
    assert_close(flat(logits.grad.tolist()), expected)


def test_cross_entropy_single_example_and_extreme_logits():
    loss = F.cross_entropy(Tensor([1000.0, -1000.0]), Tensor(1, dtype=tg.int64))
    assert math.isclose(loss.item(), 2000.0, rel_tol=1e-12)
    assert F.cross_entropy(Tensor([[1000.0, -1000.0]]), Tensor([0], dtype=tg.int64)).item() == 0.0


@given(tgst.broadcastable_shapes(1, max_dims=3, max_side=3), st.data(),
       st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss(shapes, data, reduction):
    (shape,) = shapes
    a = data.draw(tgst.tensors(shape, requires_grad=True))
    b = data.draw(tgst.tensors(shape, requires_grad=True))
    squares = [(u - v) ** 2 for u, v in zip(flat(a.tolist()), flat(b.tolist()))]
    out = F.mse_loss(a, b, reduction=reduction)
    expected = {"mean": [math.fsum(squares) / len(squares)], "sum": [math.fsum(squares)],
                "none": squares}[reduction]
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(lambda u, v: F.mse_loss(u, v, reduction=reduction), a, b)


# ---- layer norm -------------------------------------------------------------------------------


def layer_norm_reference(row, eps):
    m = math.fsum(row) / len(row)
    var = math.fsum((v - m) ** 2 for v in row) / len(row)
    return [(v - m) / math.sqrt(var + eps) for v in row]


@given(st.integers(1, 3), st.integers(2, 4), st.data())
def test_layer_norm_against_math(batch, features, data):
    x = data.draw(tgst.tensors((batch, features), unique=True, min_gap=0.1))
    out = F.layer_norm(x, (features,))
    for row, x_row in zip(rows(out), rows(x)):
        assert_close(row, layer_norm_reference(x_row, 1e-5), 1e-10)
        assert abs(math.fsum(row)) < 1e-9                               # mean 0
        var = math.fsum(v * v for v in row) / features
        assert var < 1.0 and var > 0.99                                 # variance 1 (less eps)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.data())
def test_layer_norm_gradients_with_weight_and_bias(batch, a, b, data):
    # normalising over the last two axes; values a minimum gap apart keep the variance away from 0
    x = data.draw(tgst.tensors((batch, a, b), unique=True, min_gap=0.1, requires_grad=True))
    weight = data.draw(tgst.tensors((a, b), requires_grad=True))
    bias = data.draw(tgst.tensors((a, b), requires_grad=True))
    assert gradcheck(lambda t, w, c: F.layer_norm(t, (a, b), w, c), x, weight, bias)
    out = F.layer_norm(x, (a, b), weight, bias)
    plain = F.layer_norm(x, (a, b))
    expected = [p * w + c for p, w, c in zip(flat(plain.tolist()),
                                             flat(weight.tolist()) * batch,
                                             flat(bias.tolist()) * batch)]
    assert_close(flat(out.tolist()), expected)


def test_layer_norm_accepts_an_int_shape():
    x = Tensor([[1.0, 2.0, 3.0]])
    assert F.layer_norm(x, 3).tolist() == F.layer_norm(x, (3,)).tolist()


# ---- activations ------------------------------------------------------------------------------


def test_gelu_known_values():
    x = Tensor([-10.0, -1.0, 0.0, 1.0, 10.0])
    c = math.sqrt(2.0 / math.pi)
    expected = [0.5 * v * (1.0 + math.tanh(c * (v + 0.044715 * v ** 3))) for v in x.tolist()]
    out = F.gelu(x).tolist()
    assert_close(out, expected)
    assert out[2] == 0.0
    assert abs(out[0]) < 1e-12 and math.isclose(out[4], 10.0)     # ≈ relu far from 0
    assert math.isclose(out[3], 0.8411919906082768, rel_tol=1e-12)


def test_relu_function():
    assert F.relu(Tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]


@given(tgst.tensors(tgst.shapes(1, 2, 1, 3), requires_grad=True), st.data())
def test_linear(x, data):
    out_features = data.draw(st.integers(1, 3))
    w = data.draw(tgst.tensors((out_features, x.shape[-1]), requires_grad=True))
    b = data.draw(tgst.tensors((out_features,), requires_grad=True))
    out = F.linear(x, w, b)
    assert out.shape == x.shape[:-1] + (out_features,)
    for row, x_row in zip(rows(out), rows(x)):
        expected = [math.fsum(u * v for u, v in zip(x_row, w_row)) + bias
                    for w_row, bias in zip(w.tolist(), b.tolist())]
        assert_close(row, expected)
    assert gradcheck(F.linear, x, w, b)


def test_dropout_is_deterministic_with_a_generator_and_scales():
    x = Tensor.ones(200)
    a = F.dropout(x, 0.25, generator=tg.Generator(5)).tolist()
    b = F.dropout(x, 0.25, generator=tg.Generator(5)).tolist()
    assert a == b
    assert set(a) == {0.0, 1.0 / 0.75}
    assert F.dropout(x, 0.25, training=False).tolist() == x.tolist()


# ---- edges, as PyTorch --------------------------------------------------------------------------------

INF, NAN = math.inf, math.nan


def same_values(actual, expected):
    actual, expected = flat(actual), flat(expected)
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected):
        assert (math.isnan(a) and math.isnan(e)) or a == e, (actual, expected)


@pytest.mark.parametrize("row, value, grad", [
    ([-INF, -INF], -INF, [NAN, NAN]),      # log 0 = −∞; PyTorch's gradient is nan there too
    ([INF, 1.0], INF, [NAN, 0.0]),         # the finite element's gradient is 0, as PyTorch's
    ([-INF, 1.0], 1.0, [0.0, 1.0]),        # a −∞ element has weight 0
    ([-INF, INF], INF, [0.0, NAN]),
    ([NAN, 1.0], NAN, [NAN, NAN]),
])
def test_logsumexp_with_infinities_is_pytorchs(row, value, grad):
    """The shift m = max x is replaced by 0 where it is infinite, as PyTorch does: ∞ − ∞ would be nan."""
    x = Tensor(row, requires_grad=True)
    out = F.logsumexp(x, dim=0)
    same_values([out.item()], [value])
    out.backward()
    same_values(x.grad.tolist(), grad)


@given(st.integers(1, 3), st.integers(2, 5), st.data())
def test_logsumexp_ignores_minus_infinity_and_its_gradient_is_softmax(rows, width, data):
    """Rows with some −∞ entries: the value is logsumexp of the finite ones (−∞ when none is), and the
    gradient is softmax, 0 at each −∞ (finite wherever PyTorch's is)."""
    values = [[data.draw(st.one_of(st.just(-INF), tgst.finite_floats(-30, 30))) for _ in range(width)]
              for _ in range(rows)]
    x = Tensor(values, requires_grad=True)
    out = F.logsumexp(x, dim=1)
    out.sum().backward()
    for row, value, grad in zip(values, out.tolist(), x.grad.tolist()):
        finite = [v for v in row if v != -INF]
        if not finite:
            assert value == -INF
            continue
        assert math.isclose(value, logsumexp_reference(finite), rel_tol=1e-12, abs_tol=1e-12)
        expected = [0.0 if v == -INF else math.exp(v - logsumexp_reference(finite)) for v in row]
        assert_close(grad, expected)


def test_dropout_with_p_1_zeroes_values_and_gradients():
    """p = 1 drops everything: zeros and a zero gradient (PyTorch), not 0 · 1/(1 − 1) = nan."""
    x = Tensor([[1.0, -2.0], [3.0, 0.0]], requires_grad=True)
    out = F.dropout(x, 1.0, generator=tg.Generator(0))
    assert flat(out.tolist()) == [0.0] * 4
    out.sum().backward()
    assert flat(x.grad.tolist()) == [0.0] * 4


@given(tgst.tensors(tgst.shapes(1, 1, 2, 5), requires_grad=True), st.data(),
       st.sampled_from(["none", "mean", "sum"]))
def test_cross_entropy_of_one_example_is_one_loss_of_shape_0d(logits, data, reduction):
    """1-D logits and a 0-d target: one example, so one loss of shape (), whatever the reduction (PyTorch)."""
    target = Tensor(data.draw(st.integers(0, logits.shape[0] - 1)), dtype=tg.int64)
    out = F.cross_entropy(logits, target, reduction=reduction)
    assert out.shape == ()
    row = logits.tolist()
    assert math.isclose(out.item(), logsumexp_reference(row) - row[target.item()], rel_tol=1e-12, abs_tol=1e-12)
    assert gradcheck(lambda t: F.cross_entropy(t, target, reduction=reduction), logits)
