"""Every differentiable op: forward values against ``math``, gradients against central differences.

Inputs are drawn by hypothesis: shapes up to 3 dims, broadcasting pairs, non-contiguous layouts.
Values stay away from kinks, ties and poles by construction (see ``tinygrad_edu.testing.strategies``).
"""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as tgst

pytestmark = pytest.mark.usefixtures("backend")

SMALL = tgst.shapes(0, 3, 1, 3)          # gradcheck costs two forward passes per element


# ---- references -------------------------------------------------------------------------------


def flat(values):
    if not isinstance(values, list):
        return [values]
    return [v for item in values for v in flat(item)]


def assert_close(actual, expected, tol=1e-12):
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected):
        assert math.isclose(a, e, rel_tol=tol, abs_tol=tol), (actual, expected)


def broadcast_shape(*shapes):
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    return tuple(max(sizes) for sizes in zip(*padded))


def value_at(values, shape, out_index):
    """The element of a row-major (values, shape) that broadcasting pairs with ``out_index``."""
    index = out_index[len(out_index) - len(shape):]
    position = 0
    for i, side in zip(index, shape):
        position = position * side + (0 if side == 1 else i)
    return values[position]


def reference_elementwise(fn, *tensors):
    """Apply ``fn`` element by element with NumPy broadcasting, in plain Python."""
    shapes = [t.shape for t in tensors]
    values = [flat(t.tolist()) for t in tensors]
    out_shape = broadcast_shape(*shapes)
    out = [fn(*(value_at(v, s, index) for v, s in zip(values, shapes)))
           for index in itertools.product(*(range(n) for n in out_shape))]
    return out, out_shape


def normalize_dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, tuple) else (dim,)
    return tuple(sorted(d % ndim for d in dims))


def reference_reduce(fn, t, dim, keepdim):
    """Group the elements of ``t`` by their index outside ``dim`` and reduce each group with ``fn``."""
    shape, values = t.shape, flat(t.tolist())
    dims = normalize_dims(dim, len(shape))
    groups = {}
    for index, value in zip(itertools.product(*(range(n) for n in shape)), values):
        key = tuple(0 if d in dims else i for d, i in enumerate(index))
        groups.setdefault(key, []).append(value)
    out = [fn(group) for group in groups.values()]   # dicts keep row-major insertion order
    if keepdim:
        out_shape = tuple(1 if d in dims else n for d, n in enumerate(shape))
    else:
        out_shape = tuple(n for d, n in enumerate(shape) if d not in dims)
    return out, out_shape


def reference_matmul(a, b):
    a_shape, b_shape = a.shape, b.shape
    a_vals, b_vals = flat(a.tolist()), flat(b.tolist())
    a_mat = a_shape if len(a_shape) > 1 else (1,) + a_shape
    b_mat = b_shape if len(b_shape) > 1 else b_shape + (1,)
    n, k = a_mat[-2:]
    m = b_mat[-1]
    batch = broadcast_shape(a_mat[:-2], b_mat[:-2])
    out = []
    for bi in itertools.product(*(range(s) for s in batch)):
        for i in range(n):
            for j in range(m):
                out.append(math.fsum(
                    value_at(a_vals, a_mat, bi + (i, p)) * value_at(b_vals, b_mat, bi + (p, j))
                    for p in range(k)))
    out_shape = batch + ((n,) if len(a_shape) > 1 else ()) + ((m,) if len(b_shape) > 1 else ())
    return out, out_shape


def dims_for(ndim):
    """``dim`` arguments for a reduction over ``ndim`` dims: None, an int (maybe negative), a tuple."""
    if ndim == 0:
        return st.none()
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                     st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                              unique=True).map(tuple))


def gelu_reference(v):
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))


def sigmoid_reference(v):
    return 1.0 / (1.0 + math.exp(-v))


# ---- elementwise, one input ----------------------------------------------------------------------

ANY = tgst.finite_floats()
POSITIVE = tgst.positive_floats(0.2, 3.0)
NONZERO = tgst.nonzero_floats(0.2)

# name: (op, reference on one float, values)
UNARY = {
    "neg": (lambda x: -x, lambda v: -v, ANY),
    "neg method": (lambda x: x.neg(), lambda v: -v, ANY),
    "exp": (lambda x: x.exp(), math.exp, ANY),
    "log": (lambda x: x.log(), math.log, POSITIVE),
    "sqrt": (lambda x: x.sqrt(), math.sqrt, POSITIVE),
    "abs": (lambda x: x.abs(), abs, NONZERO),
    "relu": (lambda x: x.relu(), lambda v: max(v, 0.0), NONZERO),
    "tanh": (lambda x: x.tanh(), math.tanh, ANY),
    "sigmoid": (lambda x: x.sigmoid(), sigmoid_reference, ANY),
    "gelu": (lambda x: x.gelu(), gelu_reference, ANY),
    "square": (lambda x: x ** 2, lambda v: v * v, ANY),
    "square method": (lambda x: x.square(), lambda v: v * v, ANY),
    "pow method": (lambda x: x.pow(3.0), lambda v: v ** 3, ANY),
    "cube": (lambda x: x ** 3, lambda v: v ** 3, ANY),
    "power 1.5": (lambda x: x ** 1.5, lambda v: v ** 1.5, POSITIVE),
    "reciprocal": (lambda x: x ** -1, lambda v: 1.0 / v, NONZERO),
    "number ** x": (lambda x: 2.0 ** x, lambda v: 2.0 ** v, ANY),
    "x + number": (lambda x: x + 2.5, lambda v: v + 2.5, ANY),
    "number + x": (lambda x: 2.5 + x, lambda v: 2.5 + v, ANY),
    "x - number": (lambda x: x - 2.5, lambda v: v - 2.5, ANY),
    "number - x": (lambda x: 2.5 - x, lambda v: 2.5 - v, ANY),
    "x * number": (lambda x: x * -1.5, lambda v: v * -1.5, ANY),
    "number * x": (lambda x: -1.5 * x, lambda v: -1.5 * v, ANY),
    "x / number": (lambda x: x / 4.0, lambda v: v / 4.0, ANY),
    "number / x": (lambda x: 3.0 / x, lambda v: 3.0 / v, NONZERO),
    "clamp": (lambda x: x.clamp(-1.0, 1.0), lambda v: min(max(v, -1.0), 1.0),
              tgst.floats_away_from((-1.0, 1.0), 0.1)),
    "clamp min": (lambda x: x.clamp(min=0.5), lambda v: max(v, 0.5),
                  tgst.floats_away_from((0.5,), 0.1)),
    "clamp max": (lambda x: x.clamp(max=-0.5), lambda v: min(v, -0.5),
                  tgst.floats_away_from((-0.5,), 0.1)),
    "F.relu": (lambda x: tg.functional.relu(x), lambda v: max(v, 0.0), NONZERO),
    "F.gelu": (lambda x: tg.functional.gelu(x), gelu_reference, ANY),
    "F.sigmoid": (lambda x: tg.functional.sigmoid(x), sigmoid_reference, ANY),
    "F.tanh": (lambda x: tg.functional.tanh(x), math.tanh, ANY),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary(name, data):
    op, reference, values = UNARY[name]
    x = data.draw(tgst.tensors(SMALL, values, requires_grad=True), label="x")
    out = op(x)
    assert out.shape == x.shape
    assert_close(flat(out.tolist()), [reference(v) for v in flat(x.tolist())])
    assert gradcheck(op, x)


def test_sigmoid_is_stable_at_extremes():
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    assert y.tolist() == [0.0, 0.5, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.25, 0.0]


# ---- elementwise, two inputs with broadcasting -------------------------------------------------

PAIR_SHAPES = tgst.broadcastable_shapes(2, max_dims=3, max_side=3)

# name: (op, reference, values of a, values of b)
BINARY = {
    "add": (lambda a, b: a + b, lambda u, v: u + v, ANY, ANY),
    "sub": (lambda a, b: a - b, lambda u, v: u - v, ANY, ANY),
    "mul": (lambda a, b: a * b, lambda u, v: u * v, ANY, ANY),
    "div": (lambda a, b: a / b, lambda u, v: u / v, ANY, NONZERO),
    "pow": (lambda a, b: a ** b, lambda u, v: u ** v, POSITIVE, tgst.finite_floats(-2.0, 2.0)),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(shapes=PAIR_SHAPES, data=st.data())
def test_binary_broadcasting(name, shapes, data):
    op, reference, a_values, b_values = BINARY[name]
    a = data.draw(tgst.tensors(shapes[0], a_values, requires_grad=True), label="a")
    b = data.draw(tgst.tensors(shapes[1], b_values, requires_grad=True), label="b")
    out = op(a, b)
    expected, expected_shape = reference_elementwise(reference, a, b)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(op, a, b)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(shapes=PAIR_SHAPES, data=st.data())
def test_maximum_minimum_away_from_ties(name, shapes, data):
    a, b = data.draw(tgst.distinct_tensors(*shapes, requires_grad=True))
    op = (lambda x, y: x.maximum(y)) if name == "maximum" else (lambda x, y: x.minimum(y))
    expected, _ = reference_elementwise(max if name == "maximum" else min, a, b)
    assert_close(flat(op(a, b).tolist()), expected)
    assert gradcheck(op, a, b)


def test_binary_with_only_one_side_requiring_grad():
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    b = Tensor([[3.0], [4.0]])
    assert gradcheck(lambda x: x * b, a)
    assert gradcheck(lambda y: b / y, a)


@given(shapes=tgst.broadcastable_shapes(3, max_dims=3, max_side=3), data=st.data())
def test_where(shapes, data):
    c_shape, x_shape, y_shape = shapes
    condition = data.draw(tgst.tensors(c_shape, NONZERO)) > 0.0
    x = data.draw(tgst.tensors(x_shape, requires_grad=True), label="x")
    y = data.draw(tgst.tensors(y_shape, requires_grad=True), label="y")
    out = tg.where(condition, x, y)
    expected, expected_shape = reference_elementwise(lambda c, u, v: u if c else v, condition, x, y)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(lambda u, v: tg.where(condition, u, v), x, y)


# ---- reductions -------------------------------------------------------------------------------


def mean(values):
    return math.fsum(values) / len(values)


def variance(values, correction):
    m = mean(values)
    return math.fsum((v - m) ** 2 for v in values) / (len(values) - correction)


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(data=st.data(), keepdim=st.booleans())
def test_sum_mean(name, data, keepdim):
    x = data.draw(tgst.tensors(SMALL, requires_grad=True), label="x")
    dim = data.draw(dims_for(x.ndim), label="dim")
    op = (lambda t: getattr(t, name)(dim=dim, keepdim=keepdim))
    out = op(x)
    expected, expected_shape = reference_reduce(math.fsum if name == "sum" else mean, x, dim,
                                                keepdim)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(op, x)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_away_from_ties(name, data, keepdim):
    x = data.draw(tgst.tensors(SMALL, unique=True, requires_grad=True), label="x")
    dim = data.draw(dims_for(x.ndim), label="dim")
    op = (lambda t: getattr(t, name)(dim=dim, keepdim=keepdim))
    out = op(x)
    expected, expected_shape = reference_reduce(max if name == "max" else min, x, dim, keepdim)
    assert out.shape == expected_shape
    assert flat(out.tolist()) == expected
    assert gradcheck(op, x)


def test_reductions_without_arguments_reduce_everything():
    x = Tensor([[1.0, -2.0], [5.0, 0.5]])
    assert x.sum().item() == 4.5
    assert x.mean().item() == 1.125
    assert x.max().item() == 5.0
    assert x.min().item() == -2.0
    assert x.sum().shape == ()


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data(), keepdim=st.booleans(), correction=st.sampled_from([0, 1]))
def test_var_std(name, data, keepdim, correction):
    # Every reduced dim has size >= 2 (so n - correction > 0) and the values are a minimum gap
    # apart (so the variance, under std's square root, stays away from 0), by construction.
    x = data.draw(tgst.tensors(tgst.shapes(1, 3, 2, 3), unique=True, min_gap=0.1,
                               requires_grad=True), label="x")
    dim = data.draw(dims_for(x.ndim), label="dim")
    op = (lambda t: getattr(t, name)(dim=dim, keepdim=keepdim, correction=correction))
    out = op(x)
    root = math.sqrt if name == "std" else (lambda v: v)
    expected, expected_shape = reference_reduce(lambda g: root(variance(g, correction)), x, dim,
                                                keepdim)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected, 1e-10)
    assert gradcheck(op, x)


def test_var_default_correction_is_one():
    assert Tensor([1.0, 2.0, 3.0, 4.0]).var().item() == pytest.approx(5.0 / 3.0, rel=1e-14)


@given(data=st.data(), keepdim=st.booleans())
def test_argmax(data, keepdim):
    x = data.draw(tgst.tensors(tgst.shapes(1, 3, 1, 4), unique=True), label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    out = x.argmax(dim=dim, keepdim=keepdim)
    assert not out.requires_grad
    assert out.dtype == tg.int64
    expected, expected_shape = reference_reduce(lambda g: g.index(max(g)), x, dim, keepdim)
    assert out.shape == expected_shape
    assert flat(out.tolist()) == expected
    whole = x.argmax()
    assert whole.item() == flat(x.tolist()).index(max(flat(x.tolist())))


# ---- matmul -----------------------------------------------------------------------------------


@given(tgst.matmul_pairs(max_batch_dims=2, max_side=3, requires_grad=True))
def test_matmul(pair):
    a, b = pair
    out = a @ b
    expected, expected_shape = reference_matmul(a, b)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(lambda x, y: x @ y, a, b)
    assert flat(a.matmul(b).tolist()) == flat(out.tolist())


@given(st.integers(1, 4), st.data())
def test_dot(n, data):
    a = data.draw(tgst.tensors((n,), requires_grad=True))
    b = data.draw(tgst.tensors((n,), requires_grad=True))
    expected = math.fsum(u * v for u, v in zip(a.tolist(), b.tolist()))
    assert math.isclose(a.dot(b).item(), expected, rel_tol=1e-12, abs_tol=1e-12)
    assert gradcheck(lambda u, v: u.dot(v), a, b)


@given(tgst.tensors(tgst.shapes(2, 3, 1, 3), requires_grad=True))
def test_mT_swaps_the_last_two_axes(x):
    out = x.mT
    assert out.shape == x.shape[:-2] + (x.shape[-1], x.shape[-2])
    assert gradcheck(lambda t: t.mT @ t, x)


# ---- shape ops --------------------------------------------------------------------------------

ANY_TENSOR = tgst.tensors(SMALL, requires_grad=True)
AT_LEAST_1D = tgst.tensors(tgst.shapes(1, 3, 1, 3), requires_grad=True)
AT_LEAST_2D = tgst.tensors(tgst.shapes(2, 3, 1, 3), requires_grad=True)


@given(x=ANY_TENSOR)
def test_reshape_and_view(x):
    target = tuple(reversed(x.shape)) + (1,)
    assert gradcheck(lambda t: t.reshape(*target), x)
    assert gradcheck(lambda t: t.view(-1), x)
    assert flat(x.reshape(*target).tolist()) == flat(x.tolist())


@given(x=AT_LEAST_2D, data=st.data())
def test_permute_transpose_T(x, data):
    order = data.draw(st.permutations(range(x.ndim)), label="order")
    d0, d1 = data.draw(st.integers(0, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda t: t.permute(*order), x)
    assert gradcheck(lambda t: t.transpose(d0, d1), x)
    assert gradcheck(lambda t: t.T, x)
    index = tuple(s - 1 for s in x.shape)
    assert _at(x.permute(*order), tuple(index[d] for d in order)) == _at(x, index)


def _at(t, index):
    value = t.tolist()
    for i in index:
        value = value[i]
    return value


@given(x=tgst.tensors(tgst.shapes(1, 3, 1, 3), requires_grad=True), data=st.data())
def test_flatten(x, data):
    start = data.draw(st.integers(0, x.ndim - 1))
    end = data.draw(st.integers(start, x.ndim - 1))
    out = x.flatten(start, end)
    assert out.shape == x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    assert gradcheck(lambda t: t.flatten(start, end), x)


@given(shapes=tgst.broadcastable_shapes(2, max_dims=3, max_side=3), data=st.data())
def test_expand(shapes, data):
    small, _ = shapes
    full = broadcast_shape(*shapes)
    x = data.draw(tgst.tensors(small, requires_grad=True))
    out = x.expand(*full)
    assert out.shape == full
    expected, _ = reference_elementwise(lambda v, _: v, x, Tensor.zeros(*full))
    assert flat(out.tolist()) == expected
    assert gradcheck(lambda t: t.expand(*full), x)   # gradient sums over the copies


@given(x=ANY_TENSOR, data=st.data())
def test_unsqueeze_squeeze(x, data):
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    assert gradcheck(lambda t: t.unsqueeze(d), x)
    assert gradcheck(lambda t: t.unsqueeze(d).squeeze(d), x)
    assert gradcheck(lambda t: t.unsqueeze(0).squeeze(), x)
    assert x.unsqueeze(d).squeeze(d).shape == x.shape


@given(x=AT_LEAST_1D, data=st.data())
def test_getitem_slices_ints_none(x, data):
    key = []
    for side in x.shape:
        kind = data.draw(st.sampled_from(["int", "slice", "none+slice"]))
        if kind == "int":
            key.append(data.draw(st.integers(-side, side - 1)))
        else:
            if kind == "none+slice":
                key.append(None)
            start = data.draw(st.integers(0, side - 1))
            step = data.draw(st.integers(1, 2))
            key.append(slice(start, None, step))
    key = tuple(key)
    out = x[key]
    assert gradcheck(lambda t: t[key], x)
    # the same selection, done on nested lists
    assert flat(out.tolist()) == _select(x.tolist(), [k for k in key if k is not None])


def _select(nested, key):
    if not key:
        return flat(nested)
    k, rest = key[0], key[1:]
    if isinstance(k, int):
        return _select(nested[k], rest)
    return [v for item in nested[k] for v in _select(item, rest)]


@given(x=AT_LEAST_1D, data=st.data())
def test_getitem_int_tensor_gathers_rows(x, data):
    rows = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=4))
    index = Tensor(rows, dtype=tg.int64)
    out = x[index]
    assert out.shape == (len(rows),) + x.shape[1:]
    assert out.tolist() == [x.tolist()[r] for r in rows]
    assert gradcheck(lambda t: t[index], x)      # repeated rows add their gradients
    assert gradcheck(lambda t: t[rows], x)


@given(x=ANY_TENSOR)
def test_contiguous(x):
    assert x.contiguous().is_contiguous()
    assert gradcheck(lambda t: t.contiguous(), x)


@given(shape=tgst.shapes(1, 3, 1, 3), data=st.data())
def test_cat(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for size in sizes:
        part_shape = list(shape)
        part_shape[dim] = size
        parts.append(data.draw(tgst.tensors(tuple(part_shape), requires_grad=True)))
    out = Tensor.cat(parts, dim=dim)
    expected_shape = list(shape)
    expected_shape[dim] = sum(sizes)
    assert out.shape == tuple(expected_shape)
    assert gradcheck(lambda *ts: Tensor.cat(list(ts), dim=dim), *parts)


@given(shape=tgst.shapes(0, 2, 1, 3), data=st.data())
def test_stack(shape, data):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    count = data.draw(st.integers(1, 3))
    parts = [data.draw(tgst.tensors(shape, requires_grad=True)) for _ in range(count)]
    out = Tensor.stack(parts, dim=dim)
    position = dim % (len(shape) + 1)
    assert out.shape == shape[:position] + (count,) + shape[position:]
    assert _at(out, (0,) * position + (count - 1,) + (0,) * (len(shape) - position)) == \
        _at(parts[-1], (0,) * len(shape))
    assert gradcheck(lambda *ts: Tensor.stack(list(ts), dim=dim), *parts)


# ---- compositions: the MLP block of the lecture -----------------------------------------------


@given(data=st.data())
def test_mlp_block_gradients(data):
    d, hidden = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(tgst.tensors((d,), requires_grad=True), label="x")
    w_up = data.draw(tgst.tensors((hidden, d), requires_grad=True), label="w_up")
    w_down = data.draw(tgst.tensors((d, hidden), requires_grad=True), label="w_down")
    # the bias moves every pre-activation at least 0.5 away from relu's kink
    pre = (w_up @ x).tolist()
    b_up = Tensor([0.5 - p if abs(p) < 0.5 else 0.0 for p in pre], requires_grad=True)

    def block(x_, w_up_, b_up_, w_down_):
        return x_ + w_down_ @ (w_up_ @ x_ + b_up_).relu()

    assert gradcheck(block, x, w_up, b_up, w_down)


# ---- edges, as PyTorch: zeros, infinities, nan, negative bases --------------------------------------
# The values below are PyTorch's (float64); each test states the rule that gives them.

INF, NAN = math.inf, math.nan


def same_values(actual, expected):
    """Equal element by element, nan matching nan and the sign of an infinity or a zero counting."""
    actual, expected = flat(actual), flat(expected)
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected):
        if math.isnan(e):
            assert math.isnan(a), (actual, expected)
        else:
            assert a == e and math.copysign(1.0, a) == math.copysign(1.0, e), (actual, expected)


def grads_of(fn, *values):
    """(fn's values, each input's gradient) for float64 inputs built from ``values``; ∂L/∂out = 1."""
    inputs = [Tensor(v, requires_grad=True) for v in values]
    out = fn(*inputs)
    out.backward(Tensor.ones(*out.shape))
    return out.tolist(), [x.grad.tolist() for x in inputs]


EIGHTHS = st.integers(-24, 24).map(lambda k: k / 8)     # sums of these are exact, so the mean is the value


@pytest.mark.parametrize("name", ["std", "var"])
@given(shape=tgst.shapes(1, 3, 2, 3), value=EIGHTHS, data=st.data())
def test_std_and_var_of_equal_values_are_zero_with_zero_gradient(name, shape, value, data):
    """All values equal: PyTorch's std is 0 with gradient 0 (√'s infinite slope is not multiplied by 0)."""
    x = Tensor.full(shape, value, requires_grad=True)
    dim = data.draw(dims_for(len(shape)), label="dim")
    out = getattr(x, name)(dim=dim)
    assert all(v == 0.0 for v in flat(out.tolist()))
    out.backward(Tensor.ones(*out.shape))
    assert all(g == 0.0 for g in flat(x.grad.tolist()))


@given(data=st.data())
def test_std_gradient_where_only_some_groups_are_constant(data):
    """Rows of equal values get 0, the other rows std's usual gradient (checked by central differences:
    std is symmetric around a constant row, so its numerical slope there is 0 too)."""
    rows, width = data.draw(st.integers(2, 3)), data.draw(st.integers(2, 3))
    varied = data.draw(tgst.tensors((rows - 1, width), unique=True, min_gap=0.1)).tolist()
    constant = data.draw(EIGHTHS)
    x = Tensor([[constant] * width] + varied, requires_grad=True)
    assert gradcheck(lambda t: t.std(dim=1), x)
    x.grad = None
    x.std(dim=1).sum().backward()
    assert x.grad.tolist()[0] == [0.0] * width


@given(tgst.tensors(SMALL, st.sampled_from([0.0, -0.0, 1.5, -2.0]), requires_grad=True))
def test_power_zero_has_zero_gradient_even_at_zero(x):
    """x ** 0 is 1 everywhere and its gradient 0, also at x = 0 (0·0⁻¹ would be nan), as PyTorch."""
    for out in (x ** 0, x ** 0.0, x ** Tensor(0.0)):
        assert all(v == 1.0 for v in flat(out.tolist()))
        x.grad = None
        out.backward(Tensor.ones(*out.shape))
        assert all(g == 0.0 for g in flat(x.grad.tolist()))


# IEEE pow (C99 Annex F), which PyTorch and NumPy follow: base, exponent -> value
IEEE_POWERS = [
    (-2.0, 2.0, 4.0), (-2.0, 3.0, -8.0), (-2.0, -1.0, -0.5), (-2.0, 0.5, NAN), (0.0, 0.0, 1.0),
    (-0.0, 0.0, 1.0), (NAN, 0.0, 1.0), (1.0, NAN, 1.0), (0.0, 2.0, 0.0), (0.0, -1.0, INF), (-0.0, -1.0, -INF),
    (-0.0, -2.0, INF), (0.0, -0.5, INF), (-0.0, 3.0, -0.0), (-1e308, 3.0, -INF), (-1e308, 2.0, INF),
    (1e308, 2.0, INF), (-0.5, -2001.0, -INF), (1e-200, 2.0, 0.0), (-1e-200, 3.0, -0.0), (-INF, 3.0, -INF),
    (-INF, -1.0, -0.0), (2.0, -INF, 0.0), (0.5, -INF, INF), (-1.0, INF, 1.0),
]


@pytest.mark.parametrize("base, exponent, value", IEEE_POWERS)
def test_powers_follow_ieee_pow(base, exponent, value):
    """No exp(y·ln x): (−2)² = 4, 0⁰ = 1, (−0)⁻¹ = −∞, (−1e308)³ = −∞, with a constant or a tensor
    exponent, and with a number base (c ** t)."""
    x, y = Tensor([base]), Tensor([exponent])
    same_values((x ** exponent).tolist(), [value])
    same_values((x ** y).tolist(), [value])
    same_values((base ** y).tolist(), [value])
    same_values(x.pow(y).tolist(), [value])


@given(st.lists(st.tuples(tgst.nonzero_floats(0.2), st.integers(-3, 3).map(float)), min_size=1, max_size=6))
def test_negative_bases_with_integer_exponents_have_pytorchs_gradients(pairs):
    """x ** y for any sign of x and an integer y: the value is x multiplied |y| times (or its inverse),
    ∂/∂x = y·x^(y−1) (checked by central differences); ∂/∂y = z·ln x, nan for x < 0, as in PyTorch."""
    bases, exponents = [b for b, _ in pairs], [e for _, e in pairs]
    x, y = Tensor(bases, requires_grad=True), Tensor(exponents, requires_grad=True)
    out = x ** y
    expected = [math.prod([b] * int(abs(e))) ** (1 if e >= 0 else -1) for b, e in pairs]
    assert_close(out.tolist(), expected)
    assert gradcheck(lambda t: t ** y.detach(), x)
    out.backward(Tensor.ones(len(pairs)))
    for b, e, z, g in zip(bases, exponents, expected, y.grad.tolist()):
        if b < 0:
            assert math.isnan(g)
        else:
            assert math.isclose(g, z * math.log(b), rel_tol=1e-12, abs_tol=1e-12)


@given(base=st.sampled_from([-2.0, -0.5, 0.5, 3.0]), data=st.data())
def test_number_to_a_tensor_power(base, data):
    """c ** t for any c: IEEE pow; for c > 0 the gradient c^t·ln c by central differences; for c < 0 the
    gradient is nan (ln c), as in PyTorch."""
    exponents = data.draw(tgst.tensors(SMALL, st.integers(-3, 3).map(float), requires_grad=True))
    out = base ** exponents
    assert_close(flat(out.tolist()), [base ** e for e in flat(exponents.tolist())])
    if base > 0:
        assert gradcheck(lambda t: base ** t, exponents)
    else:
        out.backward(Tensor.ones(*out.shape))
        assert all(math.isnan(g) for g in flat(exponents.grad.tolist()))


# At x = 0 PyTorch's pow gradients: ∂/∂x = y·0^(y−1) but 0 for y = 0; ∂/∂y = 0 for y ≥ 0 (the power is
# flat there: 0 or 1) and z·ln 0 = −∞ for y < 0.
POWERS_AT_ZERO = [  # exponent, value, ∂/∂x, ∂/∂y
    (2.0, 0.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.5, 0.0, INF, 0.0),
    (-1.0, INF, -INF, -INF), (3.0, 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("exponent, value, dx, dy", POWERS_AT_ZERO)
def test_power_gradients_at_zero_are_pytorchs(exponent, value, dx, dy):
    out, (gx, gy) = grads_of(lambda x, y: x ** y, [0.0], [exponent])
    same_values(out, [value])
    same_values(gx, [dx])
    same_values(gy, [dy])
    out, (gx,) = grads_of(lambda x: x ** exponent, [0.0])
    same_values(gx, [dx])
    out, (gy,) = grads_of(lambda y: 0.0 ** y, [exponent])
    same_values(out, [value])
    same_values(gy, [dy])


@given(x=st.one_of(st.sampled_from([0.0, -0.0]),
                  st.builds(lambda m, e: m * 10.0 ** e, tgst.nonzero_floats(1.0, 9.9), st.integers(-299, 299))),
       exponent=st.integers(-4, 4))
def test_integer_powers_are_correctly_signed_at_any_magnitude(x, exponent):
    """x ** n for an integer n equals the exact rational power, rounded (to 2 ulp), with IEEE's ±∞ on
    overflow and ±0 on underflow, the sign that of x for odd n: (−1e308)³ = −∞, not ∞."""
    from fractions import Fraction
    out = (Tensor([x]) ** exponent).item()
    if x == 0:
        expected = 1.0 if exponent == 0 else math.copysign(0.0 if exponent > 0 else INF,
                                                           x if exponent % 2 else 1.0)
        same_values([out], [expected])
        return
    exact = Fraction(x) ** exponent
    try:
        expected = float(exact)
    except OverflowError:
        expected = INF if exact > 0 else -INF
    if math.isinf(expected) or abs(expected) < 1e-300:
        assert (out > 0 or math.copysign(1.0, out) > 0) == (exact > 0)        # the sign survives
        assert out == expected or (abs(expected) < 1e-300 and abs(out) < 1e-290)
    else:
        assert math.isclose(out, expected, rel_tol=4.5e-16), (x, exponent, out, expected)


# ---- division at extreme magnitudes ----------------------------------------------------------------

EXTREME = st.builds(lambda m, e: m * 10.0 ** e, tgst.nonzero_floats(0.5, 9.0), st.integers(-300, 300))


@given(st.lists(st.tuples(EXTREME, EXTREME), min_size=1, max_size=4))
def test_division_gradients_do_not_overflow_where_the_true_values_fit(pairs):
    """∂(x/y)/∂y = −x/y² is computed as −(x/y)/y: within 2 ulp of the exact value wherever that value and
    x/y are normal floats (y² alone under/overflows for |y| beyond 1e±154: x = y = 1e-170 gave −∞)."""
    from fractions import Fraction
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    x, y = Tensor(xs, requires_grad=True), Tensor(ys, requires_grad=True)
    (x / y).backward(Tensor.ones(len(pairs)))
    for a, b, ga, gb in zip(xs, ys, x.grad.tolist(), y.grad.tolist()):
        assert math.isclose(ga, 1.0 / b, rel_tol=1e-15)
        exact = -Fraction(a) / Fraction(b) ** 2
        quotient = abs(Fraction(a) / Fraction(b))
        if 1e-300 < abs(exact) < 1e300 and 1e-300 < quotient < 1e300:
            assert math.isclose(gb, float(exact), rel_tol=5e-16), (a, b, gb, float(exact))


def test_division_gradient_at_1e_minus_170():
    out, (gx, gy) = grads_of(lambda x, y: x / y, [1e-170], [1e-170])
    assert out == [1.0] and gx == [1e170] and gy == [-1e170]


# ---- nan goes through every op as in PyTorch ---------------------------------------------------------


@st.composite
def with_nans(draw, shape_strategy=tgst.shapes(1, 3, 1, 4)):
    """A tensor with at least one nan, at drawn positions, the other values distinct."""
    shape = draw(shape_strategy)
    count = math.prod(shape)
    values = draw(tgst.unique_values(count, 0.02))
    spots = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True))
    for i in spots:
        values[i] = NAN
    return tgst.make_tensor(values, shape, layout=draw(st.sampled_from([None, "strided"])))


def _groups(t, dim):
    """The groups a reduction over ``dim`` (an int) sees, each a list, in row-major order of the rest."""
    values, shape = flat(t.tolist()), t.shape
    groups = {}
    for index, value in zip(itertools.product(*(range(n) for n in shape)), values):
        key = index[:dim] + index[dim + 1:]
        groups.setdefault(key, []).append(value)
    return list(groups.values())


def _first_nan_or(group, pick):
    nans = [i for i, v in enumerate(group) if v != v]
    return nans[0] if nans else group.index(pick(group))


@given(x=with_nans(), data=st.data())
def test_max_min_argmax_argmin_propagate_nan_wherever_it_stands(x, data):
    """A group holding a nan has max and min nan and argmax/argmin at its first nan (PyTorch, NumPy),
    whatever the order of the elements; the other groups are as without nan."""
    dim = data.draw(st.integers(0, x.ndim - 1), label="dim")
    groups = _groups(x, dim)
    for name, pick in (("max", max), ("min", min)):
        got = flat(getattr(x, name)(dim=dim).tolist())
        for value, group in zip(got, groups):
            if any(v != v for v in group):
                assert math.isnan(value)
            else:
                assert value == pick(group)
        whole = getattr(x, name)().item()
        assert math.isnan(whole)
        assert flat(getattr(x, f"arg{name}")(dim=dim).tolist()) == [_first_nan_or(g, pick) for g in groups]
        assert getattr(x, f"arg{name}")().item() == _first_nan_or(flat(x.tolist()), pick)


@given(shapes=PAIR_SHAPES, data=st.data())
def test_maximum_minimum_propagate_nan_from_either_side(shapes, data):
    """maximum/minimum are nan where either input is (Python's max(1, nan) would keep 1); the gradient then
    goes whole to both inputs, as in PyTorch."""
    elements = st.one_of(st.just(NAN), tgst.finite_floats())
    a = data.draw(tgst.tensors(shapes[0], elements, requires_grad=True), label="a")
    b = data.draw(tgst.tensors(shapes[1], elements, requires_grad=True), label="b")
    for op, pick in (("maximum", max), ("minimum", min)):
        out = getattr(a, op)(b)
        expected, _ = reference_elementwise(lambda u, v: NAN if u != u or v != v else pick(u, v), a, b)
        same_values(out.tolist(), expected)
        a.grad = b.grad = None
        out.backward(Tensor.ones(*out.shape))
        share_a, _ = reference_elementwise(
            lambda u, v: 1.0 if u != u or v != v else (1.0 if u == pick(u, v) else 0.0) - (0.5 if u == v else 0.0),
            a, b)
        summed = Tensor(nest_like(share_a, out.shape)).sum(tuple(range(out.ndim - a.ndim))) if out.ndim > a.ndim \
            else Tensor(nest_like(share_a, out.shape))
        assert_close(flat(a.grad.tolist()), flat(_sum_to(summed, a.shape).tolist()))


def nest_like(values, shape):
    from tinygrad_edu.shapes import nest
    return nest(values, shape)


def _sum_to(t, shape):
    """Sum a broadcast gradient back to ``shape`` (the axes of size 1 in ``shape``)."""
    axes = tuple(d for d, (s, full) in enumerate(zip(shape, t.shape)) if s == 1 and full != 1)
    return t.sum(axes, keepdim=True) if axes else t


def test_unary_ops_at_nan_are_pytorchs():
    """relu(nan) = nan (its gradient passes, as PyTorch's: only x ≤ 0 stops it); |x|' at nan is 0
    (sign(nan) = 0); clamp(nan) = nan with gradient 0; exp, log, tanh, sigmoid, gelu of nan are nan."""
    out, (g,) = grads_of(lambda x: x.relu(), [NAN, -1.0, 2.0])
    same_values(out, [NAN, 0.0, 2.0])
    same_values(g, [1.0, 0.0, 1.0])
    out, (g,) = grads_of(lambda x: x.abs(), [NAN, -1.0, 0.0])
    same_values(out, [NAN, 1.0, 0.0])
    same_values(g, [0.0, -1.0, 0.0])
    out, (g,) = grads_of(lambda x: x.clamp(0.0, 1.0), [NAN, 0.5])
    same_values(out, [NAN, 0.5])
    same_values(g, [0.0, 1.0])
    for op in (Tensor.exp, Tensor.log, Tensor.tanh, Tensor.sigmoid, Tensor.gelu, Tensor.sqrt):
        out, (g,) = grads_of(op, [NAN])
        assert math.isnan(out[0]) and math.isnan(g[0]), op


@given(x=with_nans(tgst.shapes(1, 1, 2, 5)))
def test_max_gradient_goes_to_the_nans(x):
    """The whole-tensor max of values with nans is nan, and the nans share its gradient (PyTorch)."""
    x.requires_grad_()
    x.max().backward()
    nans = [v != v for v in flat(x.tolist())]
    assert_close(flat(x.grad.tolist()), [1.0 / sum(nans) if is_nan else 0.0 for is_nan in nans])


# ---- clamp with tensor bounds ---------------------------------------------------------------------------


@given(shapes=tgst.broadcastable_shapes(3, max_dims=3, max_side=3), data=st.data())
def test_clamp_with_tensor_bounds_broadcasts_and_has_gradients_for_all_three(shapes, data):
    """x.clamp(low, high) with tensors: min(max(x, low), high) broadcast together; the gradient goes to x
    inside [low, high] and to the bound that was taken where x was clipped (central differences, with x,
    low and high apart so no element sits at a tie)."""
    x_shape, low_shape, high_shape = shapes
    x, low, high = data.draw(tgst.distinct_tensors(x_shape, low_shape, high_shape, min_gap=0.02,
                                                   requires_grad=True))
    out = x.clamp(low, high)
    expected, expected_shape = reference_elementwise(lambda v, lo, hi: min(max(v, lo), hi), x, low, high)
    assert out.shape == expected_shape
    assert_close(flat(out.tolist()), expected)
    assert gradcheck(lambda t, lo, hi: t.clamp(lo, hi), x, low, high)
    assert gradcheck(lambda t, lo: t.clamp(min=lo), x, low)
    assert gradcheck(lambda t, hi: t.clamp(max=hi), x, high)
    assert gradcheck(lambda t, lo: t.clamp(lo, 3.5), x, low)      # a number (above every value) and a tensor


# x, low, high -> value, ∂/∂x, ∂/∂low, ∂/∂high (PyTorch's clamp with tensor bounds)
CLAMP_AT_THE_BOUNDS = [
    (0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 0.0),     # x = low: the gradient passes to x
    (2.0, 0.0, 2.0, 2.0, 1.0, 0.0, 0.0),     # x = high: the gradient passes to x
    (-1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0),    # clipped to low
    (3.0, 0.0, 2.0, 2.0, 0.0, 0.0, 1.0),     # clipped to high
    (1.0, 1.5, 0.5, 0.5, 0.0, 0.0, 1.0),     # low > high: everything is high
    (0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0),     # low = high, x below: PyTorch gives no one the gradient
    (NAN, 0.0, 2.0, NAN, 0.0, 0.0, 0.0),     # nan: nan, no gradient
]


@pytest.mark.parametrize("x, low, high, value, dx, dlow, dhigh", CLAMP_AT_THE_BOUNDS)
def test_clamp_gradient_at_the_bounds_is_pytorchs(x, low, high, value, dx, dlow, dhigh):
    out, grads = grads_of(lambda t, lo, hi: t.clamp(lo, hi), [x], [low], [high])
    same_values(out, [value])
    same_values(grads, [[dx], [dlow], [dhigh]])
    if low <= high:     # the same for number bounds: at x = low and x = high the gradient passes to x
        out, (g,) = grads_of(lambda t: t.clamp(low, high), [x])
        same_values(out, [value])
        same_values(g, [dx])


def test_clamp_refuses_bounds_that_are_neither_numbers_nor_tensors():
    with pytest.raises(TypeError, match=r"clamp: min must be a number or a Tensor, got list"):
        Tensor([1.0]).clamp([0.0], 1.0)
    with pytest.raises(ValueError, match=r"clamp.*\(2,\) and \(3,\)"):
        Tensor([1.0, 2.0]).clamp(Tensor([0.0, 0.0, 0.0]))


def test_unbound_formulas_read_as_sentences():
    """Printed without a trace, each op's math reads as it is: no symbol doubled by the words around it
    ("to shape shape", "in order order"), no Python value (None, a tuple key) in the text."""
    from tinygrad_edu import ops
    from tinygrad_edu.trace.formula import bind
    for name in ops.__all__:
        op = getattr(ops, name)
        for text in (bind(op.formula), bind(op.derivative)):
            words = text.replace("(", " ").replace(")", " ").split()
            assert not any(a == b and a.isalpha() for a, b in zip(words, words[1:])), (name, text)
            assert "None" not in text and "(0,)" not in text, (name, text)
