"""Tensors as data: creation, dtypes, views and strides, indexing, joining, printing, randomness."""

import math
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as tgst

pytestmark = pytest.mark.usefixtures("backend")


def nested(shape, start=0.0):
    """Nested lists of ``shape`` holding start, start+1, ... in row-major order."""
    flat = [start + i for i in range(math.prod(shape))]

    def build(offset, dims):
        if not dims:
            return flat[offset]
        step = math.prod(dims[1:])
        return [build(offset + i * step, dims[1:]) for i in range(dims[0])]

    return build(0, tuple(shape))


def flat(values):
    if not isinstance(values, list):
        return [values]
    return [v for item in values for v in flat(item)]


# ---- creation ---------------------------------------------------------------------------------


def test_from_number_is_0d():
    t = Tensor(2.5)
    assert t.shape == ()
    assert t.ndim == 0
    assert t.item() == 2.5
    assert t.tolist() == 2.5
    assert t.numel() == 1
    assert t.strides() == ()


@given(tgst.shapes(1, 4, 1, 3))
def test_from_nested_lists_round_trips(shape):
    data = nested(shape)
    t = Tensor(data)
    assert t.shape == shape
    assert t.ndim == len(shape)
    assert len(t) == shape[0]
    assert t.numel() == math.prod(shape)
    assert t.tolist() == data


def test_defaults():
    t = Tensor([1.0, 2.0])
    assert not t.requires_grad
    assert t.grad is None
    assert t.is_leaf
    assert t.name is None


def test_named_sets_name_and_returns_self():
    t = Tensor([1.0])
    assert t.named("x") is t
    assert t.name == "x"
    assert Tensor([1.0], name="w").name == "w"


def test_float_is_the_default_dtype():
    assert Tensor([1.0, 2.0]).dtype == tg.float64
    assert Tensor(3.0).dtype == tg.float64
    assert Tensor.zeros(2).dtype == tg.float64


def test_int_data_and_int_dtype():
    t = Tensor([1, 2, 3], dtype=tg.int64)
    assert t.dtype == tg.int64
    assert t.tolist() == [1, 2, 3]
    assert all(type(v) is int for v in t.tolist())
    assert Tensor([1, 2], dtype="int64").dtype == tg.int64


def test_float_dtype_converts_ints():
    t = Tensor([1, 2], dtype=tg.float64)
    assert t.tolist() == [1.0, 2.0]
    assert all(type(v) is float for v in t.tolist())


def test_comparisons_give_tensors_without_grad():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([2.0, 2.0, 2.0])
    for result, expected in [(a < b, [1, 0, 0]), (a <= b, [1, 1, 0]), (a > b, [0, 0, 1]),
                             (a >= b, [0, 1, 1]), (a == b, [0, 1, 0]), (a != b, [1, 0, 1])]:
        assert not result.requires_grad
        assert result.dtype == tg.bool_
        assert [int(v) for v in result.tolist()] == expected
    assert [int(v) for v in (a > 1.5).tolist()] == [0, 1, 1]


def test_zeros_ones_full():
    assert Tensor.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert Tensor.ones(3).tolist() == [1.0, 1.0, 1.0]
    assert Tensor.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tg.zeros(2).tolist() == [0.0, 0.0]
    assert tg.ones(1, 2).tolist() == [[1.0, 1.0]]
    assert tg.full((3,), -1.5).tolist() == [-1.5] * 3
    assert Tensor.zeros(2, requires_grad=True).requires_grad


def test_arange_and_eye():
    assert Tensor.arange(0, 5).tolist() == [0, 1, 2, 3, 4]
    assert Tensor.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert tg.arange(3).tolist() == [0, 1, 2]
    assert Tensor.eye(3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_like_creators_copy_shape():
    x = Tensor(nested((2, 3)))
    assert tg.zeros_like(x).tolist() == [[0.0] * 3] * 2
    assert tg.ones_like(x).shape == (2, 3)
    assert tg.full_like(x, 4.0).tolist() == [[4.0] * 3] * 2
    assert tg.rand_like(x, seed=1).shape == (2, 3)
    assert tg.randn_like(x, seed=1).shape == (2, 3)


# ---- randomness ---------------------------------------------------------------------------------


def test_same_seed_same_numbers():
    assert Tensor.randn(3, 4, seed=7).tolist() == Tensor.randn(3, 4, seed=7).tolist()
    assert Tensor.rand(5, seed=7).tolist() == Tensor.rand(5, seed=7).tolist()
    assert Tensor.randn(5, seed=7).tolist() != Tensor.randn(5, seed=8).tolist()


def test_generator_is_deterministic_and_advances():
    g1, g2 = tg.Generator(42), tg.Generator(42)
    first1, first2 = Tensor.randn(4, generator=g1), Tensor.randn(4, generator=g2)
    assert first1.tolist() == first2.tolist()
    second1 = Tensor.randn(4, generator=g1)
    assert second1.tolist() != first1.tolist()          # the generator's state moved on
    assert Tensor.randn(4, generator=g2).tolist() == second1.tolist()


def test_rand_and_uniform_ranges():
    r = flat(Tensor.rand(200, seed=3).tolist())
    assert all(0.0 <= v < 1.0 for v in r)
    u = flat(Tensor.uniform(200, low=-2.0, high=-1.0, seed=3).tolist())
    assert all(-2.0 <= v <= -1.0 for v in u)
    assert min(u) < -1.9 and max(u) > -1.1                # spread over the interval


def test_randn_looks_standard_normal():
    v = flat(Tensor.randn(2000, seed=11).tolist())
    mean = sum(v) / len(v)
    var = sum((x - mean) ** 2 for x in v) / (len(v) - 1)
    assert abs(mean) < 0.1
    assert abs(var - 1.0) < 0.1


# ---- views share storage ------------------------------------------------------------------------


def test_transpose_moves_no_data_only_strides():
    x = Tensor(nested((2, 3)))
    assert x.strides() == (3, 1)
    assert x.is_contiguous()
    t = x.T
    assert t.shape == (3, 2)
    assert t.strides() == (1, 3)
    assert not t.is_contiguous()
    assert t.storage_offset() == x.storage_offset()
    assert t.shares_storage(x)
    assert t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    c = t.contiguous()
    assert c.is_contiguous()
    assert c.strides() == (2, 1)
    assert c.tolist() == t.tolist()


@given(tgst.shapes(2, 4, 1, 3), st.data())
def test_permute_is_a_view_with_permuted_strides(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    x = Tensor(nested(shape))
    p = x.permute(*order)
    assert p.shape == tuple(shape[d] for d in order)
    assert p.strides() == tuple(x.strides()[d] for d in order)
    assert p.storage_offset() == x.storage_offset()
    for index in [tuple(0 for _ in shape), tuple(s - 1 for s in shape)]:
        permuted_index = tuple(index[d] for d in order)
        assert _at(p, permuted_index) == _at(x, index)


def _at(t, index):
    value = t.tolist()
    for i in index:
        value = value[i]
    return value


def test_slice_with_step_is_a_view():
    x = Tensor(nested((10,)))
    s = x[1:8:3]
    assert s.tolist() == [1.0, 4.0, 7.0]
    assert s.strides() == (3,)
    assert s.storage_offset() == 1
    assert s.shares_storage(x)


def test_two_d_slicing_strides_and_offset():
    x = Tensor(nested((4, 5)))
    s = x[1:, ::2]
    assert s.shape == (3, 3)
    assert s.strides() == (5, 2)
    assert s.storage_offset() == 5
    assert s.tolist() == [[5.0, 7.0, 9.0], [10.0, 12.0, 14.0], [15.0, 17.0, 19.0]]


def test_views_share_storage_with_their_base():
    x = Tensor(nested((2, 3)))
    views = [x.T, x.reshape(3, 2), x[1], x[:, 1:], x.unsqueeze(0), x.permute(1, 0),
             x.transpose(0, 1), x.flatten()]
    for v in views:
        assert v.shares_storage(x)
    assert not x.contiguous().T.contiguous().shares_storage(x)


def test_expand_is_a_view_with_zero_strides():
    x = Tensor([[1.0], [2.0]])
    e = x.expand(2, 3)
    assert e.shape == (2, 3)
    assert e.strides()[1] == 0
    assert e.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    e2 = Tensor([1.0, 2.0]).expand(3, 2)
    assert e2.strides()[0] == 0
    assert e2.tolist() == [[1.0, 2.0]] * 3


def test_unsqueeze_squeeze():
    x = Tensor(nested((2, 3)))
    assert x.unsqueeze(0).shape == (1, 2, 3)
    assert x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(1).shape == (2, 1, 3)
    y = Tensor(nested((1, 2, 1)))
    assert y.squeeze().shape == (2,)
    assert y.squeeze(0).shape == (2, 1)
    assert y.squeeze(-1).shape == (1, 2)
    assert y.squeeze(1).shape == (1, 2, 1)     # a dim of size 2 is left alone, as in PyTorch


@given(tgst.tensors(tgst.shapes(1, 3, 1, 4)))
def test_reshape_keeps_row_major_order(x):
    n = x.numel()
    assert x.reshape(n).tolist() == flat(x.tolist())
    assert x.reshape(-1).tolist() == flat(x.tolist())
    assert x.reshape(1, n).tolist() == [flat(x.tolist())]
    assert x.view(n, 1).tolist() == [[v] for v in flat(x.tolist())]
    assert x.flatten().tolist() == flat(x.tolist())


def test_flatten_range():
    x = Tensor(nested((2, 3, 4)))
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x.flatten(start_dim=1, end_dim=-1).tolist() == [flat(r) for r in x.tolist()]


@given(tgst.tensors(noncontiguous=True))
def test_noncontiguous_strategy_keeps_values(x):
    assert x.contiguous().tolist() == x.tolist()
    if x.ndim >= 1 and x.numel() > 1:
        assert not x.is_contiguous()


# ---- indexing ---------------------------------------------------------------------------------


def test_getitem_int_and_negative_int():
    x = Tensor(nested((3, 4)))
    assert x[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x[-1].tolist() == [8.0, 9.0, 10.0, 11.0]
    assert x[1, 2].item() == 6.0
    assert x[1][2].item() == 6.0
    assert x[1, 2].shape == ()


def test_getitem_none_adds_a_dim():
    x = Tensor(nested((2, 3)))
    assert x[None].shape == (1, 2, 3)
    assert x[:, None].shape == (2, 1, 3)
    assert x[:, None].tolist() == [[r] for r in x.tolist()]


def test_getitem_mixed():
    x = Tensor(nested((3, 4, 5)))
    y = x[1, ::2, None, 1:4]
    assert y.shape == (2, 1, 3)
    assert y.tolist() == [[[21.0, 22.0, 23.0]], [[31.0, 32.0, 33.0]]]


def test_getitem_int_tensor_and_list_gather_rows():
    table = Tensor(nested((4, 2)))
    idx = Tensor([3, 0, 3], dtype=tg.int64)
    assert table[idx].tolist() == [[6.0, 7.0], [0.0, 1.0], [6.0, 7.0]]
    assert table[[1, 1]].tolist() == [[2.0, 3.0], [2.0, 3.0]]
    grid = Tensor([[0, 1], [2, 3]], dtype=tg.int64)
    assert table[grid].shape == (2, 2, 2)


def test_gather_backward_adds_repeated_rows():
    table = Tensor(nested((3, 2)), requires_grad=True)
    table[Tensor([2, 0, 2], dtype=tg.int64)].sum().backward()
    assert table.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]


# ---- joining ----------------------------------------------------------------------------------


def test_cat():
    a, b = Tensor(nested((2, 2))), Tensor(nested((1, 2), 10.0))
    assert Tensor.cat([a, b]).tolist() == [[0.0, 1.0], [2.0, 3.0], [10.0, 11.0]]
    c = Tensor(nested((2, 1), 20.0))
    assert Tensor.cat([a, c], dim=1).tolist() == [[0.0, 1.0, 20.0], [2.0, 3.0, 21.0]]
    assert Tensor.cat([a, c], dim=-1).shape == (2, 3)


def test_stack():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    assert Tensor.stack([a, b]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert Tensor.stack([a, b], dim=1).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert Tensor.stack([a, b], dim=-1).shape == (2, 2)


def test_cat_and_stack_route_gradients_back():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0], requires_grad=True)
    (Tensor.cat([a, b]) * Tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0]
    assert b.grad.tolist() == [3.0]
    c = Tensor([5.0, 6.0], requires_grad=True)
    (Tensor.stack([a, c]) * Tensor([[1.0, 0.0], [0.0, 1.0]])).sum().backward()
    assert c.grad.tolist() == [0.0, 1.0]


# ---- output -----------------------------------------------------------------------------------


def test_repr_in_pytorch_style():
    assert repr(Tensor([[1.0, 2.0]], requires_grad=True)) == \
        "tensor([[1., 2.]], requires_grad=True)"
    assert repr(Tensor([1.5, -2.0])) == "tensor([ 1.5000, -2.0000])"
    assert repr(Tensor(3.0)) == "tensor(3.)"


def test_repr_of_int_tensor():
    r = repr(Tensor([1, 2], dtype=tg.int64))
    assert r.startswith("tensor([1, 2]")


def test_item_needs_one_element():
    assert Tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="item"):
        Tensor([1.0, 2.0]).item()


def test_rich_renders():
    from rich.console import Console

    console = Console(record=True, width=80, color_system=None)
    console.print(Tensor([[1.0, 2.0], [3.0, 4.0]], name="w"))
    text = console.export_text()
    assert "1" in text and "4" in text
    assert "(2, 2)" in text or "2×2" in text or "2 × 2" in text


def test_numpy_in_and_out():
    np = pytest.importorskip("numpy")
    array = np.arange(6.0).reshape(2, 3)
    t = Tensor(array)
    assert t.shape == (2, 3)
    assert t.tolist() == array.tolist()
    out = t.T.numpy()
    assert isinstance(out, np.ndarray)
    assert out.tolist() == array.T.tolist()
    assert Tensor(np.array([1, 2])).dtype == tg.int64


def test_ellipsis_index():
    x = Tensor(nested((2, 3, 4)))
    assert x[..., 1].tolist() == [[r[1] for r in m] for m in x.tolist()]
    assert x[0, ...].tolist() == x[0].tolist()


def test_hash_is_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"


# ---- boolean masks select, as in PyTorch ----------------------------------------------------------


def test_a_list_of_bools_is_a_mask_not_indices():
    x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert x[[True, False, True]].tolist() == [[1.0, 2.0], [5.0, 6.0]]
    assert x[Tensor([False, True, False])].tolist() == [[3.0, 4.0]]
    assert x[[True, 1]].tolist() == [[3.0, 4.0], [3.0, 4.0]]       # not all bools: positions (True is 1)
    assert x[True].shape == (1, 3, 2) and x[False].shape == (0, 3, 2)   # one bool: a mask of shape ()


@given(tgst.shapes(1, 3, 1, 4), st.integers(1, 3), st.data())
def test_a_mask_picks_the_true_elements_in_order_with_their_gradient(shape, k, data):
    k = min(k, len(shape))
    x = data.draw(tgst.tensors(shape, requires_grad=True))
    mask = data.draw(st.lists(st.booleans(), min_size=math.prod(shape[:k]), max_size=math.prod(shape[:k])))
    mask_tensor = Tensor(mask).reshape(shape[:k])
    picked = x[mask_tensor]
    rows = [row for row, keep in zip(x.reshape((math.prod(shape[:k]),) + shape[k:]).tolist(), mask) if keep]
    assert picked.shape == (sum(mask),) + shape[k:]
    assert picked.tolist() == rows
    assert x[mask_tensor.tolist()].tolist() == rows                 # the nested list says the same
    weights = Tensor([1.0 + i for i in range(picked.numel())]).reshape(picked.shape)
    (picked * weights).sum().backward()                              # each picked element gets its weight back
    expected = [0.0] * x.numel()
    row = math.prod(shape[k:])
    for j, i in enumerate(i for i, keep in enumerate(mask) if keep):
        expected[i * row:(i + 1) * row] = flat(weights.tolist())[j * row:(j + 1) * row]
    assert flat(x.grad.tolist()) == expected
    assert gradcheck(lambda t: t[mask_tensor] * 2.0, x)


def test_x_greater_than_zero_as_a_mask():
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]])
    assert x[x > 0].tolist() == [1.0, 4.0]


def test_a_mask_of_the_wrong_shape_names_both_shapes():
    x = Tensor.zeros(3, 2)
    with pytest.raises(IndexError, match=re.escape("mask's shape (2,) does not match the indexed tensor's shape (3, 2)")):
        x[[True, False]]
    with pytest.raises(IndexError, match=re.escape("mask's shape (3, 3) does not match")):
        x[Tensor.zeros(3, 3) > 0]


# ---- size-0 axes, as NumPy and PyTorch ------------------------------------------------------------


def test_size_0_tensors_keep_their_shape_print_and_convert():
    assert Tensor.zeros(3, 0).tolist() == [[], [], []]
    assert Tensor.zeros(0, 3).tolist() == []
    assert repr(Tensor.zeros(3, 0)) == "tensor([], size=(3, 0))"
    assert repr(Tensor.zeros(0)) == "tensor([])"
    assert Tensor([[], []]).shape == (2, 0)


def test_size_0_numpy_array_keeps_its_shape():
    np = pytest.importorskip("numpy")
    assert Tensor(np.zeros((0, 3))).shape == (0, 3)
    assert Tensor(np.zeros((2, 0, 3))).shape == (2, 0, 3)


@pytest.mark.parametrize("a, b, shape", [((0,), (), (0,)), ((0, 3), (1, 3), (0, 3)), ((0, 1), (1, 4), (0, 4)),
                                         ((2, 0), (2, 1), (2, 0)), ((0,), (1,), (0,))])
def test_size_0_axes_broadcast_as_numpy(a, b, shape):
    assert (Tensor.zeros(*a) + Tensor.ones(*b)).shape == shape
    assert (Tensor.ones(*b) * Tensor.zeros(*a)).shape == shape
    with pytest.raises(tg.ShapeError):
        Tensor.zeros(0) + Tensor.zeros(2)


def test_reductions_over_empty_axes_follow_pytorch():
    e = Tensor.zeros(0, 3, requires_grad=True)
    assert e.sum().item() == 0.0 and e.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert math.isnan(e.mean().item()) and all(math.isnan(v) for v in e.mean(0).tolist())
    assert e.mean(1).shape == (0,) and e.max(1).shape == (0,) and e.argmax(1).shape == (0,)
    with pytest.raises(RuntimeError, match=re.escape("max: the tensor of shape (0, 3) is empty")):
        e.max()
    with pytest.raises(IndexError, match=re.escape("min: dim 0 of shape (0, 3) has size 0")):
        e.min(0)
    with pytest.raises(IndexError, match="argmax: dim 0 of shape"):
        e.argmax(0)
    (e * 2.0).sum().backward()
    assert e.grad.shape == (0, 3)


def test_attention_on_an_empty_sequence():
    attention = tg.nn.SelfAttention(4, 2)
    x = Tensor.zeros(2, 0, 4, requires_grad=True)
    out = attention(x)
    assert out.shape == (2, 0, 4)
    out.sum().backward()
    assert x.grad.shape == (2, 0, 4)


# ---- a view is always a new tensor (its gradient is its own) ------------------------------------


@pytest.mark.parametrize("view", [
    lambda t: t.reshape(t.shape), lambda t: t.view(-1), lambda t: t.squeeze(0), lambda t: t.permute(0),
    lambda t: t.expand(3), lambda t: t.expand(-1), lambda t: t.T, lambda t: t.transpose(0, -1),
    lambda t: t.broadcast_to(3),
])
def test_an_identity_view_is_a_new_tensor_with_its_own_gradient(view):
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = (x * 2.0).retain_grad()
    v = view(z).retain_grad()
    assert v is not z and v.shape == z.shape and v.shares_storage(z)
    ((v * Tensor([1.0, 10.0, 100.0])).sum() + (z * Tensor([5.0, 5.0, 5.0])).sum()).backward()
    assert v.grad.tolist() == [1.0, 10.0, 100.0]
    assert z.grad.tolist() == [6.0, 15.0, 105.0]
    assert x.grad.tolist() == [12.0, 30.0, 210.0]


def test_flatten_with_nothing_to_flatten_contiguous_and_float_return_the_tensor_itself_as_pytorch():
    x = Tensor([1.0, 2.0])
    assert x.flatten() is x and x.contiguous() is x and x.float() is x


# ---- 0-d tensors take dim 0 and -1 -------------------------------------------------------------------


def test_0d_tensors_take_dim_0_and_minus_1():
    import tinygrad_edu.functional as F
    s = Tensor(3.0, requires_grad=True)
    for dim in (0, -1, (0,), [-1]):
        assert s.sum(dim).item() == 3.0 and s.sum(dim, keepdim=True).shape == ()
    assert s.mean(-1).item() == 3.0 and s.max(0).item() == 3.0 and s.min(-1).item() == 3.0
    assert s.argmax(0).item() == 0 and s.argmin(-1).item() == 0
    assert F.softmax(s, 0).item() == 1.0 and F.log_softmax(s, -1).item() == 0.0
    assert s.transpose(0, -1).item() == 3.0 and s.squeeze(0).shape == ()
    (s.sum(0) * s.max(-1)).backward()
    assert s.grad.item() == 6.0
    with pytest.raises(tg.ShapeError, match="sum: dim 1 is out of range for a tensor with 0 dimension"):
        s.sum(1)
    with pytest.raises(tg.ShapeError, match="repeats an axis"):
        s.sum((0, -1))
    with pytest.raises(tg.ShapeError, match=re.escape("cat: the tensor at position 0 is 0-d")):
        Tensor.cat([s, s])
    with pytest.raises(IndexError, match="size: a 0-d tensor has no dim 0"):
        s.size(0)


# ---- invalid shapes are refused, naming the call -------------------------------------------------


@pytest.mark.parametrize("call, error, text", [
    (lambda: Tensor([1.0, 2.0]).expand(-2), tg.ShapeError, "expand: sizes must be non-negative integers or -1, got (-2,)"),
    (lambda: Tensor([1.0, 2.0]).expand(2.5), TypeError, "expand: sizes must be integers, got 2.5 (float)"),
    (lambda: Tensor([1.0, 2.0]).expand(-1, -1, -1), tg.ShapeError, "expand: -1 keeps a size, but dimension 0 of (-1, -1, -1) is a new one"),
    (lambda: Tensor([1.0, 2.0]).expand(3, 2, True), TypeError, "expand: sizes must be integers, got True (bool)"),
    (lambda: Tensor.eye(-1), tg.ShapeError, "eye: sizes must be non-negative integers"),
    (lambda: Tensor.eye(2, 1.5), TypeError, "eye: sizes must be integers, got 1.5"),
    (lambda: Tensor.zeros(-1), tg.ShapeError, "zeros: sizes must be non-negative integers, got (-1,)"),
    (lambda: Tensor.ones((2, "3")), TypeError, "ones: sizes must be integers, got '3' (str)"),
    (lambda: Tensor.full((2, None), 1.0), TypeError, "full: sizes must be integers, got None"),
    (lambda: Tensor.randn(2, -3), tg.ShapeError, "randn: sizes must be non-negative integers, got (2, -3)"),
    (lambda: Tensor.rand(2.0), TypeError, "uniform: sizes must be integers, got 2.0 (float)"),
    (lambda: Tensor.zeros(4).reshape(-1, -1), tg.ShapeError, "reshape: (4,) -> (-1, -1): only one size can be -1"),
    (lambda: Tensor.zeros(4).reshape(-2, -2), tg.ShapeError, "reshape: sizes must be non-negative integers or -1, got (-2, -2)"),
    (lambda: Tensor.zeros(4).reshape(2.0, 2), TypeError, "reshape: sizes must be integers, got 2.0 (float)"),
    (lambda: Tensor.zeros(0, 3).reshape(0, -1), tg.ShapeError, "reshape: cannot reshape (0, 3) (0 elements) into (0, -1)"),
    (lambda: Tensor.zeros(2, 3).permute(0, 3), tg.ShapeError, "permute: (0, 3) is not an ordering of the 2 axes"),
])
def test_invalid_shapes_are_refused_naming_the_call(call, error, text):
    with pytest.raises(error, match=re.escape(text)):
        call()


# ---- sizes that cannot fit are refused before anything is allocated ---------------------------------


@pytest.mark.parametrize("call, text", [
    (lambda: Tensor.arange(10 ** 12), "arange: shape (1000000000000,) has 1,000,000,000,000 elements"),
    (lambda: Tensor.randn(10 ** 5, 10 ** 5), "randn: shape (100000, 100000) has 10,000,000,000 elements"),
    (lambda: Tensor.zeros(10 ** 6, 10 ** 6), "zeros: shape (1000000, 1000000) has 1,000,000,000,000 elements"),
    (lambda: Tensor.full((10 ** 7, 10 ** 7), 1.0), "full: shape (10000000, 10000000)"),
    (lambda: Tensor.eye(10 ** 7), "eye: shape (10000000, 10000000)"),
    (lambda: Tensor.rand(10 ** 6, 10 ** 6), "uniform: shape (1000000, 1000000)"),
    (lambda: Tensor.arange(0.0, 1.0, 1e-13), "arange: shape (10000000000000,)"),
])
def test_sizes_that_cannot_fit_in_memory_are_refused_at_once(call, text):
    with pytest.raises(MemoryError, match=re.escape(text)) as info:
        call()
    assert "of memory, so nothing was allocated" in str(info.value) and tg.get_backend() in str(info.value)


def test_the_size_limit_is_what_the_machine_could_hold():
    tensor_module = sys.modules["tinygrad_edu.tensor"]
    each = tensor_module.BYTES_PER_ELEMENT[tg.get_backend()]
    too_many = tensor_module._memory_bytes() // each + 1
    with pytest.raises(MemoryError, match=f"{too_many:,} elements"):
        Tensor.zeros(too_many)
    assert Tensor.zeros(1000, 1000).numel() == 10 ** 6


# ---- bad arguments: one error naming the call, the argument and what is allowed -------------------


_x = lambda: Tensor([[1.0, 2.0], [3.0, 4.0]])     # noqa: E731 (a fresh tensor per case, on the test's backend)


@pytest.mark.parametrize("call, error, text", [
    (lambda: _x().permute(0, "a"), TypeError, "permute: dims must be ints, got (0, 'a')"),
    (lambda: _x().permute(0.0, 1), TypeError, "permute: dims must be ints"),
    (lambda: _x().transpose(0, "a"), TypeError, "transpose: dim must be an int or a tuple of ints, got 'a'"),
    (lambda: Tensor.randn(2, generator=5), TypeError, "randn: generator must be a tinygrad_edu Generator"),
    (lambda: Tensor.randn(2, seed="a"), TypeError, "randn: seed must be an int, got 'a'"),
    (lambda: Tensor.randn(2, seed=1.5), TypeError, "randn: seed must be an int, got 1.5"),
    (lambda: _x().randn_like(generator=3), TypeError, "randn: generator must be a tinygrad_edu Generator"),
    (lambda: Tensor.uniform(2, low="a"), TypeError, "uniform: low must be a number, got 'a'"),
    (lambda: Tensor.uniform(2, low=3.0, high=1.0), ValueError, "uniform: low (3.0) must not be above high (1.0)"),
    (lambda: tg.manual_seed("a"), TypeError, "manual_seed: seed must be an int, got 'a'"),
    (lambda: tg.Generator(1.5), TypeError, "manual_seed: seed must be an int, got 1.5"),
    (lambda: _x().size(5), IndexError, "size: dim 5 is out of range for a tensor of shape (2, 2) (allowed: -2 to 1)"),
    (lambda: _x().size("a"), TypeError, "size: dim must be an int, got 'a'"),
    (lambda: _x().stride(2), IndexError, "stride: dim 2 is out of range"),
    (lambda: Tensor.full(2, "a"), TypeError, "full: the fill value must be a number, got 'a'"),
    (lambda: Tensor.full(2.5, 1.0), TypeError, "full: sizes must be integers, got 2.5 (float)"),
    (lambda: Tensor.zeros([2, [3]]), TypeError, "zeros: sizes must be integers, got [3] (list)"),
    (lambda: Tensor.arange("a"), TypeError, "arange: stop must be a number, got 'a'"),
    (lambda: Tensor.arange(0, float("inf")), ValueError, "arange: stop must be finite, got inf"),
    (lambda: Tensor.arange(0, float("nan")), ValueError, "arange: stop must be finite, got nan"),
    (lambda: Tensor.eye(2, "b"), TypeError, "eye: sizes must be integers, got 'b' (str)"),
    (lambda: Tensor([1.0], requires_grad=1), TypeError, "requires_grad: expected True or False, got 1"),
    (lambda: Tensor([1.0], name=5), TypeError, "Tensor: name must be a str, got 5"),
    (lambda: _x().named(5), TypeError, "named: the name must be a str, got 5"),
    (lambda: _x().sum("a"), TypeError, "sum: dim must be an int or a tuple of ints, got 'a'"),
    (lambda: _x().sum(1.0), TypeError, "sum: dim must be an int or a tuple of ints, got 1.0"),
    (lambda: _x().sum(keepdim="x"), TypeError, "sum: keepdim must be True or False, got 'x'"),
    (lambda: _x().max(0, keepdim=1), TypeError, "max: keepdim must be True or False, got 1"),
    (lambda: _x().var(correction="a"), TypeError, "var: correction must be a number, got 'a'"),
    (lambda: _x().argmax((0, 1)), TypeError, "argmax: dim must be an int or None, got (0, 1)"),
    (lambda: _x().unsqueeze("a"), TypeError, "unsqueeze: dim must be an int, got 'a'"),
    (lambda: _x().flatten("a"), TypeError, "flatten: dim must be an int or a tuple of ints, got 'a'"),
    (lambda: _x()[[0, "a"]], IndexError, "getitem: an index list must hold ints (positions) or bools (a mask)"),
    (lambda: _x()[[0.5]], IndexError, "getitem: an index list must hold ints (positions) or bools (a mask)"),
    (lambda: Tensor.cat(_x()), TypeError, "cat: expected a list of tensors, got Tensor"),
    (lambda: Tensor.cat([_x(), 1]), TypeError, "cat: expected a list of tensors, but item 1 is a int"),
    (lambda: Tensor.cat(5), TypeError, "cat: expected a list of tensors, got int"),
    (lambda: Tensor.stack(_x()), TypeError, "stack: expected a list of tensors, got Tensor"),
    (lambda: Tensor.stack([_x(), _x()], dim="a"), TypeError, "stack: dim must be an int, got 'a'"),
    (lambda: tg.where(_x() > 0, "a", 1.0), TypeError, "where: x must be a Tensor or a number, got str"),
    (lambda: tg.where(_x() > 0, _x(), None), TypeError, "where: y must be a Tensor or a number, got NoneType"),
    (lambda: Tensor([1.0]).dot("a"), TypeError, "unsupported operand: Tensor and str"),
    (lambda: _x().retain_grad(), RuntimeError, "retain_grad: this tensor does not require grad"),
    (lambda: _x().fill_("a"), TypeError, "fill_: value must be a number, got 'a'"),
    (lambda: _x().copy_("a"), TypeError, "copy_: src must be a Tensor or a number, got str"),
])
def test_bad_arguments_get_one_error_naming_the_call(call, error, text):
    with pytest.raises(error, match=re.escape(text)):
        call()


# ---- in place: the same tensor, changed (a Parameter stays registered) ------------------------------


@given(tgst.tensors((2, 3)), tgst.tensors((3,), tgst.nonzero_floats(0.5)), st.sampled_from(range(8)))
def test_in_place_arithmetic_changes_the_tensor_itself_and_its_views(x, y, which):
    name, change, expected = [
        ("+=", lambda t: t.__iadd__(y), lambda t: t + y), ("-=", lambda t: t.__isub__(y), lambda t: t - y),
        ("*=", lambda t: t.__imul__(y), lambda t: t * y), ("/=", lambda t: t.__itruediv__(y), lambda t: t / y),
        ("add_", lambda t: t.add_(y, alpha=2.0), lambda t: t + y * 2.0), ("sub_", lambda t: t.sub_(y), lambda t: t - y),
        ("mul_", lambda t: t.mul_(3.0), lambda t: t * 3.0), ("div_", lambda t: t.div_(y), lambda t: t / y),
    ][which]
    want = expected(x).tolist()
    row = x[1]                                   # a view of the storage
    assert change(x) is x, name
    assert x.tolist() == want and row.tolist() == want[1]


def test_in_place_on_a_parameter_keeps_it_registered_in_its_place():
    m = tg.nn.Linear(3, 2)
    weight, bias = m.weight, m.bias
    before = weight.tolist()
    with tg.no_grad():
        m.weight += 0.5
        m.weight *= 2.0
        m.bias.zero_()
    assert m.weight is weight and m.bias is bias
    assert [name for name, _ in m.named_parameters()] == ["weight", "bias"]
    assert list(m.state_dict()) == ["weight", "bias"] and [id(p) for p in m.parameters()] == [id(weight), id(bias)]
    assert m.weight.tolist() == [[(v + 0.5) * 2.0 for v in row] for row in before]
    assert m.bias.tolist() == [0.0, 0.0] and m.weight.requires_grad and m.weight.is_leaf


def test_in_place_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.__iadd__(1.0), lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.copy_(Tensor([3.0, 4.0]))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            change()
    assert w.tolist() == [1.0, 2.0]
    with tg.no_grad():
        w -= 0.5                                 # an optimizer's update
    assert w.tolist() == [0.5, 1.5] and w.is_leaf and w.requires_grad


def test_in_place_keeps_shape_and_dtype_and_refuses_an_expanded_view():
    with pytest.raises(tg.ShapeError, match=re.escape("add_: this tensor has shape (3,), but the result would have "
                                                      "the broadcast shape (2, 3)")):
        Tensor.zeros(3).add_(Tensor.zeros(2, 3))
    with pytest.raises(TypeError, match="add_: the result is float64, which this int64 tensor cannot hold"):
        Tensor([1, 2]).add_(1.5)
    with pytest.raises(TypeError, match="div_: the result is float64"):
        Tensor([1, 2]).div_(2)
    with pytest.raises(RuntimeError, match=re.escape("add_: this tensor of shape (3,) is an expanded view")):
        Tensor([1.0]).expand(3).add_(1.0)
    t = Tensor([1, 2])
    t += 3                                       # int += int stays int
    assert t.tolist() == [4, 5] and t.dtype == tg.int64


def test_fill_zero_and_copy_in_place():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.fill_(7.0) is t and t.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert t.zero_().tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert t.copy_(Tensor([1.0, 2.0])).tolist() == [[1.0, 2.0], [1.0, 2.0]]      # broadcast
    assert t.copy_(t.T).tolist() == [[1.0, 1.0], [2.0, 2.0]]                      # reads it all before writing
    n = Tensor([0, 0])
    assert n.copy_(Tensor([1.7, -2.2])).tolist() == [1, -2] and n.dtype == tg.int64  # converted, as PyTorch


def test_copy_from_another_backend():
    other = next((name for name in ("python", "numpy") if name != tg.get_backend()))
    try:
        with tg.use_backend(other):
            source = Tensor([5.0, 6.0])
    except ImportError:
        pytest.skip(f"backend {other} is not installed")
    t = Tensor([0.0, 0.0])
    assert t.copy_(source).tolist() == [5.0, 6.0] and t.backend == tg.get_backend()


def test_a_tensor_made_from_a_tensor_and_a_clone_have_their_own_storage():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b, c = Tensor(a), a.clone()
    assert not b.shares_storage(a) and not c.shares_storage(a) and not b.requires_grad
    with tg.no_grad():
        b += 1.0
        c *= 10.0
    assert a.tolist() == [1.0, 2.0]
    d = a.clone()
    (d * Tensor([3.0, 4.0])).sum().backward()    # the clone passes its gradient on
    assert a.grad.tolist() == [3.0, 4.0]


def test_loading_a_state_dict_copies_the_values():
    source, target = tg.nn.Linear(2, 2), tg.nn.Linear(2, 2)
    target.load_state_dict(source.state_dict())
    with tg.no_grad():
        target.weight += 1.0
    assert source.weight.tolist() != target.weight.tolist()
    assert [[v + 1.0 for v in row] for row in source.weight.tolist()] == target.weight.tolist()
