"""Tensors as data: creation, dtypes, views and strides, indexing, joining, printing, randomness."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
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
