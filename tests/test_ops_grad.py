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
