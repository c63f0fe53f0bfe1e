"""Both backends: choosing one, refusing to mix them, and the same numbers from every op and gradient.

The equivalence property: for inputs drawn by hypothesis (broadcasting shapes, non-contiguous layouts,
values away from kinks and ties), each op's output and the gradient of every input agree between the
pure-Python and the NumPy backend to a relative 1e-12 (relative to max(|a|, |b|, 1): near zero that is
an absolute 1e-12, since sums in a different order may not cancel to exactly the same tiny number).
"""
from __future__ import annotations

import importlib.util
import inspect
import math
import os
import subprocess
import sys
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import functional as F
from tinygrad_edu import backend as backend_api
from tinygrad_edu.backend import load
from tinygrad_edu.testing import strategies as tgst
from tinygrad_edu.testing.strategies import make_tensor

HAVE_NUMPY = importlib.util.find_spec("numpy") is not None
needs_numpy = pytest.mark.skipif(not HAVE_NUMPY, reason="NumPy is not installed")
RTOL = 1e-12


# ================================================================================================
# Choosing a backend
# ================================================================================================


@needs_numpy
def test_set_backend_changes_where_new_tensors_live_and_its_block_form_restores():
    assert tg.get_backend() == "python"
    with tg.set_backend("numpy"):
        assert tg.get_backend() == "numpy"
        assert tg.tensor([1.0, 2.0]).backend == "numpy"
        assert tg.zeros(2, 3).backend == "numpy"
        with tg.use_backend("python"):
            assert tg.ones(2).backend == "python"
        assert tg.randn(3, seed=0).backend == "numpy"
    assert tg.get_backend() == "python"
    assert tg.tensor([1.0]).backend == "python"


@needs_numpy
def test_set_backend_without_a_block_stays_until_changed_back():
    try:
        tg.set_backend("numpy")
        assert tg.arange(3).backend == "numpy"
    finally:
        tg.set_backend("python")
    assert tg.arange(3).backend == "python"


@needs_numpy
def test_use_backend_restores_the_previous_backend_after_an_error():
    with pytest.raises(RuntimeError):
        with tg.use_backend("numpy"):
            raise RuntimeError("inside the block")
    assert tg.get_backend() == "python"


def test_an_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown backend 'cupy'.*python, numpy"):
        tg.set_backend("cupy")
    assert tg.get_backend() == "python"


@needs_numpy
def test_environment_variable_chooses_the_backend_of_a_fresh_process():
    code = "import tinygrad_edu as tg; print(tg.get_backend(), tg.tensor([1.0]).backend, type(tg.tensor(1.0).data).__module__)"
    env = dict(os.environ, TINYGRAD_EDU_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numpy", "numpy", "tinygrad_edu.backend.numpy"]
    env["TINYGRAD_EDU_BACKEND"] = "python"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["python", "python", "tinygrad_edu.backend.python"]


def test_missing_numpy_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)      # `import numpy` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "tinygrad-edu\[numpy\]"'):
        load("numpy")
    with pytest.raises(ImportError, match=r'pip install "tinygrad-edu\[numpy\]"'):
        tg.set_backend("numpy")
    assert tg.get_backend() == "python"


def test_missing_numpy_on_the_command_line_is_a_usage_error(monkeypatch, capsys):
    from tinygrad_edu.cli import main
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--backend", "numpy", "--sizes", "tiny"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and 'pip install "tinygrad-edu[numpy]"' in err


# ================================================================================================
# Mixing backends
# ================================================================================================


@needs_numpy
@pytest.mark.parametrize("combine", [
    pytest.param(lambda a, b: a + b, id="add"),
    pytest.param(lambda a, b: b * a, id="mul"),
    pytest.param(lambda a, b: a @ b.T, id="matmul"),
    pytest.param(lambda a, b: tg.cat([a, b]), id="cat"),
    pytest.param(lambda a, b: tg.stack([b, a]), id="stack"),
    pytest.param(lambda a, b: tg.where(a > 0, a, b), id="where"),
    pytest.param(lambda a, b: a.maximum(b), id="maximum"),
])
def test_tensors_of_two_backends_in_one_op_raise_a_clear_error(combine):
    a = tg.tensor([[1.0, -2.0]], requires_grad=True)
    with tg.use_backend("numpy"):
        b = tg.tensor([[3.0, 4.0]])
    with pytest.raises(ValueError, match=r"cannot combine .*(python.*numpy|numpy.*python)"):
        combine(a, b)


# ================================================================================================
# The declared interface: both backends provide it, and the engine calls nothing else
# ================================================================================================


def _declared(protocol) -> dict:
    """What a Protocol declares: name -> its function (None for an attribute or a property)."""
    members = {name: None for name in protocol.__annotations__}
    for name, value in vars(protocol).items():
        if isinstance(value, property):
            members[name] = None
        elif inspect.isfunction(value) and value.__qualname__ == f"{protocol.__qualname__}.{name}":
            members[name] = value
    return members


def _parameters(function, skip_self: bool) -> list:
    params = list(inspect.signature(function).parameters.values())
    return [(p.name, p.default is inspect.Parameter.empty) for p in params[1 if skip_self else 0:]]


@pytest.mark.parametrize("name", backend_api.NAMES)
def test_each_backend_provides_every_declared_member_with_the_declared_parameters(name):
    if name == "numpy" and not HAVE_NUMPY:
        pytest.skip("NumPy is not installed")
    module = load(name)
    array = module.from_flat([1.0, 2.0], (2,))
    for member, declared in _declared(backend_api.Array).items():
        assert hasattr(array, member), f"{name} backend: Array lacks {member}"
        if declared is not None:
            mine, theirs = _parameters(declared, True), _parameters(getattr(module.Array, member), True)
            if not member.startswith("__"):      # an operator's operand is always passed by position
                assert mine == theirs, f"{name} backend: Array.{member}{theirs} is declared as {mine}"
            assert len(mine) == len(theirs), f"{name} backend: Array.{member} takes {theirs}, declared {mine}"
    for member, declared in _declared(backend_api.Backend).items():
        assert hasattr(module, member), f"{name} backend: the module lacks {member}"
        if declared is not None:
            assert _parameters(getattr(module, member), False) == _parameters(declared, True), \
                f"{name} backend: {member} does not take the declared parameters"
    assert module.Array is type(array) and module.name == name


def _strict_backend():
    """The pure-Python backend behind arrays that have only the declared members: using anything else
    (another method, or an array as a bool, a length or an iterable) raises AttributeError/TypeError."""
    from tinygrad_edu.backend import python as P
    module = types.ModuleType("strict_backend")

    class StrictArray:
        __slots__ = ("inner",)
        __module__ = module.__name__

        def __init__(self, inner):
            self.inner = inner

        def _undeclared(self, *args):
            raise TypeError("the engine used an array in a way the backend interface does not declare")

        __bool__ = __len__ = __iter__ = __float__ = __int__ = __index__ = _undeclared
        __hash__ = None

    def wrap(value):
        return StrictArray(value) if isinstance(value, P.Array) else value

    def unwrap(value):
        if isinstance(value, (list, tuple)) and any(isinstance(v, StrictArray) for v in value):
            return type(value)(unwrap(v) for v in value)
        return value.inner if isinstance(value, StrictArray) else value

    for member, declared in _declared(backend_api.Array).items():
        if declared is None:
            setattr(StrictArray, member, property(lambda self, m=member: wrap(getattr(self.inner, m))))
        else:
            def method(self, *args, _member=member, **kwargs):
                result = getattr(self.inner, _member)(*map(unwrap, args), **{k: unwrap(v) for k, v in kwargs.items()})
                return wrap(result)
            setattr(StrictArray, member, method)
    for member, declared in _declared(backend_api.Backend).items():
        if declared is not None:
            setattr(module, member, lambda *args, _member=member, **kwargs:
                    wrap(getattr(P, _member)(*map(unwrap, args), **kwargs)))
    module.name, module.Array = "strict", StrictArray
    return module


def _engine_workload():
    """Every primitive forward and backward, the composed ops, the tensor API, layers and optimizers."""
    x = tg.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], requires_grad=True)
    y = tg.tensor([[1.0, 2.0, -3.0]], requires_grad=True)
    w = tg.tensor([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]], requires_grad=True)
    parts = [
        -x, x.exp(), (x * x + 1.0).log(), (x * x + 1.0).sqrt(), x.abs(), x.relu(), x.tanh(), x.sigmoid(),
        x.gelu(), x ** 3, x.clamp(-1.0, 1.0), x + y, x - y, x * y, x / (y * y + 1.0), x.maximum(y),
        x.minimum(y), tg.where(x > 0, x, y), x.sum(1, keepdim=True), x.max(0), x.min(), x.mean(), x.var(1),
        (x @ w).sum(1), (x[0] @ w), (x @ w[:, 0]), x.T.contiguous(), x.reshape(3, 2).permute(1, 0),
        y.expand(4, 2, 3).sum(0), x[1:, ::2], x[[1, 0, 1]], tg.cat([x, y]), tg.stack([x[0], y[0]]),
        F.softmax(x, 1), F.log_softmax(x, 0), F.layer_norm(x, 3), F.mse_loss(x, y.expand(2, 3)),
        F.cross_entropy(x, tg.tensor([2, 0])), 2.0 - x, 1.5 / (x * x + 1.0), 2.0 ** x, x.unsqueeze(0).squeeze(),
    ]
    loss = sum(part.sum() for part in parts)
    loss.backward()
    assert x.grad.shape == x.shape and y.grad.shape == y.shape and w.grad.shape == w.shape
    facts = [x.tolist(), x.item() if x.numel() == 1 else x[0, 0].item(), x.argmax(1).tolist(), x.argmin().item(),
             (x < y).tolist(), (x == x).tolist(), x.strides(), x.T.storage_offset(), x.T.is_contiguous(),
             x.T.shares_storage(x), x.long().float().dtype, repr(x), x.grad.tolist(), w.grad.tolist()]
    layer = tg.nn.Linear(3, 2, seed=0)
    for optimizer in (tg.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9), tg.optim.Adam(layer.parameters())):
        for _ in range(2):
            optimizer.zero_grad()
            F.mse_loss(layer(x.detach()), tg.zeros(2, 2)).backward()
            tg.optim.clip_grad_norm_(layer.parameters(), 0.5)
            optimizer.step()
    return facts


def test_the_engine_calls_nothing_on_arrays_beyond_the_declared_interface(monkeypatch):
    strict = _strict_backend()
    monkeypatch.setitem(sys.modules, strict.__name__, strict)
    with tg.use_backend("python"):
        expected = _engine_workload()
    with tg.use_backend(strict):
        assert tg.tensor([1.0]).backend == "strict"
        assert _engine_workload() == expected


def test_the_strict_backend_catches_an_undeclared_call(monkeypatch):
    """The check above can fail: a method the interface does not declare is not there."""
    strict = _strict_backend()
    monkeypatch.setitem(sys.modules, strict.__name__, strict)
    with tg.use_backend(strict):
        t = tg.tensor([1.0, 2.0])
        with pytest.raises(AttributeError, match="_values"):
            t.data._values()
        with pytest.raises(TypeError, match="does not declare"):
            bool(t.data > 0)


# ================================================================================================
# The NumPy backend's arrays: views, strides in elements, shared storage
# ================================================================================================


@needs_numpy
def test_numpy_views_report_strides_in_elements_offset_and_shared_storage():
    with tg.use_backend("numpy"):
        x = tg.arange(12).float().reshape(3, 4)
        t = x.T
        s = x[1:, ::2]
        e = tg.tensor([1.0, 2.0, 3.0]).expand(2, 3)
    assert x.strides() == (4, 1) and x.storage_offset() == 0 and x.is_contiguous()
    assert t.strides() == (1, 4) and not t.is_contiguous() and t.shares_storage(x)
    assert s.shape == (2, 2) and s.strides() == (4, 2) and s.storage_offset() == 4 and s.shares_storage(x)
    assert e.strides() == (0, 1)
    assert s.tolist() == [[4.0, 6.0], [8.0, 10.0]]


@needs_numpy
def test_numpy_arrays_come_in_as_copies_with_our_dtypes():
    import numpy as np
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    for backend in ("python", "numpy"):
        with tg.use_backend(backend):
            t = tg.tensor(source)
            flags = tg.tensor(np.array([True, False]))
            ints = tg.tensor(np.array([1, 2], dtype=np.int32))
        assert (t.dtype, flags.dtype, ints.dtype) == ("float64", "bool", "int64")
        assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    source[0, 0] = 99.0
    assert t.tolist()[0][0] == 0.0


# ================================================================================================
# The pure-Python backend reads any view as its strides say (its fast paths against the definition)
# ================================================================================================


@st.composite
def _python_views(draw):
    """A view of a numbered storage after a few permutes, strided slices, new axes and expands."""
    from tinygrad_edu.backend import python as P
    shape = draw(tgst.shapes(0, 3, min_side=1, max_side=4))
    view = P.from_flat([float(i) for i in range(math.prod(shape))], shape)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["permute", "slice", "expand"]))
        if kind == "permute" and view.ndim > 1:
            view = view.permute(tuple(draw(st.permutations(range(view.ndim)))))
        elif kind == "slice" and view.ndim > 0:
            key = []
            for side in view.shape:
                start = draw(st.integers(0, side - 1))
                key.append(slice(start, draw(st.integers(start + 1, side)), draw(st.integers(1, 3))))
            view = view[tuple(key)]
        elif kind == "expand":
            at = draw(st.integers(0, view.ndim))
            view = view[(slice(None),) * at + (None,)]                    # a new axis of size 1 ...
            view = view.expand(view.shape[:at] + (draw(st.integers(1, 3)),) + view.shape[at + 1:])   # ... stretched
    return view


def _by_definition(view) -> list:
    """Element (i0, i1, ...) sits at storage[offset + i0*stride0 + i1*stride1 + ...]."""
    import itertools
    return [view.storage[view.offset + sum(i * s for i, s in zip(index, view.strides))]
            for index in itertools.product(*(range(side) for side in view.shape))]


@given(_python_views())
def test_python_backend_reads_any_view_as_its_strides_say(view):
    expected = _by_definition(view)
    assert view.flat() == expected
    assert view.contiguous().flat() == expected and view.contiguous().is_contiguous()
    assert view.flat() is not view.storage
    if view.ndim == 2:
        assert [v for row in view._rows() for v in row] == expected
    if view.ndim >= 1:
        assert view.sum((view.ndim - 1,)).flat() == [sum(expected[i:i + view.shape[-1]])
                                                      for i in range(0, len(expected), view.shape[-1])]


@given(_python_views(), st.data())
def test_python_backend_writes_through_a_strided_view_as_its_strides_say(view, data):
    from tinygrad_edu.backend import python as P
    target = P.full(view.shape, 0.0).contiguous()
    if view.ndim == 0:
        key = ()
    else:
        key = tuple(slice(data.draw(st.integers(0, side - 1)), None, data.draw(st.integers(1, 2))) for side in view.shape)
    window = target[key]
    values = P.from_flat([float(100 + i) for i in range(window.size)], window.shape)
    target[key] = values
    assert _by_definition(target[key]) == values.flat()
    written = set(window._positions())
    assert all(v == 0.0 for p, v in enumerate(target.storage) if p not in written)


# ================================================================================================
# The same numbers on both backends: every op, every gradient
# ================================================================================================


def _flat(nested):
    if isinstance(nested, list):
        return [v for item in nested for v in _flat(item)]
    return [nested]


def _assert_same(a, b, what):
    a, b = _flat(a), _flat(b)
    assert len(a) == len(b), f"{what}: {len(a)} and {len(b)} elements"
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, bool) or isinstance(y, bool) or (isinstance(x, int) and isinstance(y, int)):
            assert x == y, f"{what}[{i}]: {x!r} (python) != {y!r} (numpy)"
        elif math.isnan(x) or math.isnan(y):
            assert math.isnan(x) and math.isnan(y), f"{what}[{i}]: {x!r} (python) != {y!r} (numpy)"
        elif math.isinf(x) or math.isinf(y):
            assert x == y, f"{what}[{i}]: {x!r} (python) != {y!r} (numpy)"
        else:
            assert abs(x - y) <= RTOL * max(abs(x), abs(y), 1.0), \
                f"{what}[{i}]: {x!r} (python) and {y!r} (numpy) differ by {abs(x - y):.3g}"


def _upstream(shape):
    """A fixed, uneven ∂L/∂out (weights 1, -0.5, 0.8, ...) so every element's gradient path counts."""
    count = math.prod(shape)
    return [round(math.sin(1.7 * i + 1.0), 3) for i in range(count)]


def _run_on(backend, inputs, build):
    with tg.use_backend(backend):
        tensors = [make_tensor(values, shape, layout=layout, requires_grad=grad, dtype=dtype)
                   for values, shape, layout, grad, dtype in inputs]
        out = build(*tensors)
        assert out.backend == backend
        grads = None
        if out.requires_grad:
            out.backward(tg.tensor(_upstream(out.shape)).reshape(out.shape) if out.shape else
                         tg.tensor(0.75))
            grads = [t.grad.tolist() if t.grad is not None else None for t in tensors]
        return out.dtype, out.shape, out.tolist(), grads


@st.composite
def _layout(draw, shape):
    """Contiguous, axes stored reversed (a transpose), or the last axis at every other stored slot."""
    long_axes = [side for side in shape if side > 1]
    choices = [None]
    if shape:
        choices.append("strided")
    if len(long_axes) >= 2:
        choices.append(tuple(reversed(range(len(shape)))))
    return draw(st.sampled_from(choices))


@st.composite
def _input(draw, shape, elements=None, grad=True, dtype=None, unique=False):
    count = math.prod(shape)
    if unique:
        values = draw(tgst.unique_values(count, 0.02))
    else:
        values = draw(st.lists(tgst.finite_floats() if elements is None else elements, min_size=count, max_size=count))
    return values, tuple(shape), draw(_layout(shape)), grad, dtype


def _unary(build, elements=None, unique=False, shape=None):
    @st.composite
    def case(draw):
        s = draw(tgst.shapes(0, 3) if shape is None else shape)
        return [draw(_input(s, elements, unique=unique))], build
    return case()


def _binary(build, left=None, right=None):
    @st.composite
    def case(draw):
        a, b = draw(tgst.broadcastable_shapes(2))
        return [draw(_input(a, left)), draw(_input(b, right))], build
    return case()


def _reduction(method, unique=False, min_side=1):
    @st.composite
    def case(draw):
        shape = draw(tgst.shapes(1, 3, min_side=min_side))
        dim = draw(st.none() | st.integers(0, len(shape) - 1))
        keepdim = draw(st.booleans())
        return [draw(_input(shape, unique=unique))], lambda x: getattr(x, method)(dim, keepdim)
    return case()


@st.composite
def _matmul(draw):
    a, b = draw(tgst.matmul_shapes())
    return [draw(_input(a)), draw(_input(b))], lambda x, y: x @ y


@st.composite
def _where(draw):
    c, a, b = draw(tgst.broadcastable_shapes(3))
    condition = draw(_input(c, st.booleans(), grad=False, dtype="bool"))
    return [condition, draw(_input(a)), draw(_input(b))], tg.where


@st.composite
def _getitem(draw):
    shape = draw(tgst.shapes(1, 3, min_side=1, max_side=5))
    key = []
    for side in shape:
        kind = draw(st.sampled_from(["all", "int", "slice"]))
        if kind == "int":
            key.append(draw(st.integers(-side, side - 1)))
        elif kind == "slice":
            start = draw(st.integers(0, side - 1))
            key.append(slice(start, draw(st.integers(start + 1, side)), draw(st.integers(1, 3))))
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return [draw(_input(shape))], lambda x: x[tuple(key)] * 1.5


@st.composite
def _take(draw):
    shape = draw(tgst.shapes(1, 3, min_side=1))
    rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5))   # repeats add up
    return [draw(_input(shape))], lambda x: x[rows] * 2.0


@st.composite
def _cat(draw):
    shape = draw(tgst.shapes(1, 3))
    dim = draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[dim] = draw(st.integers(1, 3))
    return [draw(_input(shape)), draw(_input(tuple(other)))], lambda x, y: tg.cat([x, y, x], dim)


@st.composite
def _movement(draw):
    shape = draw(tgst.shapes(2, 3, min_side=1))
    order = draw(st.permutations(range(len(shape))))
    expanded = (draw(st.integers(1, 3)),) + tuple(s if draw(st.booleans()) else s for s in shape)
    def build(x):
        moved = x.permute(*order).contiguous().reshape(-1).reshape(tuple(shape[d] for d in order))
        stretched = x.unsqueeze(0).expand(*expanded) if all(e == s for e, s in zip(expanded[1:], shape)) else x
        return moved.permute(*sorted(range(len(order)), key=order.__getitem__)) * stretched.sum(0)
    return [draw(_input(shape))], build


@st.composite
def _expand(draw):
    shape = draw(tgst.shapes(1, 3))
    ones = tuple(1 if draw(st.booleans()) else s for s in shape)
    lead = draw(st.integers(1, 3))
    return [draw(_input(ones))], lambda x: x.expand(lead, *shape) * tg.tensor(_upstream((lead, *shape))).reshape(lead, *shape)


@st.composite
def _softmax_family(draw):
    shape = draw(tgst.shapes(1, 3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    fn = draw(st.sampled_from([F.softmax, F.log_softmax, lambda x, dim: F.logsumexp(x, dim)]))
    return [draw(_input(shape))], lambda x: fn(x, dim=dim)


@st.composite
def _layer_norm(draw):
    shape = draw(tgst.shapes(1, 3, min_side=2))
    size = shape[-1]
    return ([draw(_input(shape, unique=True)), draw(_input((size,))), draw(_input((size,)))],
            lambda x, w, b: F.layer_norm(x, (size,), w, b))


@st.composite
def _cross_entropy(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    targets = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return ([draw(_input((n, c))), (targets, (n,), None, False, "int64")],
            lambda logits, target: F.cross_entropy(logits, target))


@st.composite
def _comparisons(draw):
    a, b = draw(tgst.broadcastable_shapes(2))
    grid = st.integers(-2, 2).map(float)      # equal values happen, so == and != are exercised
    compare = draw(st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"]))
    return ([draw(_input(a, grid, grad=False)), draw(_input(b, grid, grad=False))],
            lambda x, y: getattr(x, f"__{compare}__")(y))


@st.composite
def _argmax(draw):
    shape = draw(tgst.shapes(1, 3))
    dim = draw(st.none() | st.integers(0, len(shape) - 1))
    keepdim = draw(st.booleans())
    return [draw(_input(shape, grad=False, unique=True))], lambda x: x.argmax(dim, keepdim)


_INTEGERS = st.integers(-3, 3).map(float)
_NONZERO_OR_ZERO = st.one_of(tgst.nonzero_floats(0.2), st.just(0.0))
_EXTREME = st.builds(lambda m, e: m * 10.0 ** e, tgst.nonzero_floats(0.5, 9.0), st.integers(-300, 300))
_WITH_NAN = st.one_of(st.just(math.nan), st.integers(-3, 3).map(lambda k: k / 2))


@st.composite
def _nan_reduction(draw):
    shape = draw(tgst.shapes(1, 3))
    dim = draw(st.none() | st.integers(0, len(shape) - 1))
    keepdim = draw(st.booleans())
    return [draw(_input(shape, st.one_of(st.just(math.nan), tgst.finite_floats())))], \
        lambda x: (x.max(dim, keepdim) + x.min(dim, keepdim) * 2.0
                   + (x.argmax(dim, keepdim) + x.argmin(dim, keepdim) * 10).float())


@st.composite
def _clamp_tensor(draw):
    shapes = draw(tgst.broadcastable_shapes(3))
    grid = st.integers(-4, 4).map(lambda k: k / 2)     # ties with the bounds happen, and low > high too
    return [draw(_input(shape, grid)) for shape in shapes], lambda x, low, high: x.clamp(low, high)


# x values on the quarter and y values on the three-quarter grid never tie.
_QUARTERS = st.integers(-3, 3).map(lambda k: k + 0.25)
_THREE_QUARTERS = st.integers(-3, 3).map(lambda k: k + 0.75)

CASES = {
    "neg": _unary(lambda x: -x),
    "exp": _unary(lambda x: x.exp()),
    "log": _unary(lambda x: x.log(), tgst.positive_floats()),
    "sqrt": _unary(lambda x: x.sqrt(), tgst.positive_floats()),
    "abs": _unary(lambda x: x.abs(), tgst.nonzero_floats()),
    "relu": _unary(lambda x: x.relu(), tgst.nonzero_floats()),
    "tanh": _unary(lambda x: x.tanh()),
    "sigmoid": _unary(lambda x: x.sigmoid(), st.floats(-40.0, 40.0)),
    "gelu": _unary(lambda x: x.gelu()),
    "pow_int": _unary(lambda x: x ** 3),
    "pow_fraction": _unary(lambda x: x ** 1.5 + x ** -0.5, tgst.positive_floats()),
    "clamp": _unary(lambda x: x.clamp(-1.0, 1.0), tgst.floats_away_from((-1.0, 1.0))),
    "number_on_the_left": _unary(lambda x: (2.0 - x) * 3.0 + 1.5 / x + 2.0 ** x, tgst.nonzero_floats()),
    "add": _binary(lambda x, y: x + y),
    "sub": _binary(lambda x, y: x - y),
    "mul": _binary(lambda x, y: x * y),
    "div": _binary(lambda x, y: x / y, right=tgst.nonzero_floats()),
    "maximum": _binary(lambda x, y: x.maximum(y), _QUARTERS, _THREE_QUARTERS),
    "minimum": _binary(lambda x, y: x.minimum(y), _QUARTERS, _THREE_QUARTERS),
    "where": _where(),
    "comparisons": _comparisons(),
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "max": _reduction("max", unique=True),
    "min": _reduction("min", unique=True),
    "var": _reduction("var", unique=True, min_side=2),
    "argmax": _argmax(),
    "matmul": _matmul(),
    "getitem": _getitem(),
    "take": _take(),
    "cat": _cat(),
    "movement": _movement(),
    "expand": _expand(),
    "softmax_family": _softmax_family(),
    "layer_norm": _layer_norm(),
    "cross_entropy": _cross_entropy(),
    "mse_loss": _unary(lambda x: F.mse_loss(x[0], x[1]), shape=tgst.shapes(1, 3).map(lambda s: (2,) + s)),
    # edges: IEEE powers, nan, infinities, extreme magnitudes, tensor bounds
    "pow_negative_base_integer_exponent": _binary(lambda x, y: x ** y.detach() + 2.0 ** y,
                                                  _NONZERO_OR_ZERO, _INTEGERS),
    "pow_number_base": _unary(lambda y: (-2.0) ** y + 0.0 ** y + 0.5 ** y, _INTEGERS),
    "pow_at_zero": _binary(lambda x, y: x ** y, st.sampled_from([0.0, -0.0, 1.5]), st.sampled_from([0.0, 1.0, 2.0, 0.5, -1.0])),
    "div_extreme": _binary(lambda x, y: x / y, _EXTREME, _EXTREME),
    "nan_reductions": _nan_reduction(),
    "nan_elementwise": _binary(lambda x, y: x.maximum(y) + x.minimum(y) * 2.0 + x.relu() + y.abs() + x.clamp(-1.0, 1.0),
                               _WITH_NAN, _WITH_NAN),
    "clamp_tensor": _clamp_tensor(),
    "logsumexp_infinities": _unary(lambda x: F.logsumexp(x, -1), st.sampled_from([-math.inf, math.inf, -1.5, 0.5, 2.0]),
                                   shape=tgst.shapes(1, 3, 1, 3)),
    "std_equal_rows": _unary(lambda x: x.std(-1) + x.var(-1), st.just(1.25), shape=tgst.shapes(1, 3, 2, 3)),
}


@needs_numpy
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_every_op_and_gradient_gives_the_same_numbers_on_both_backends(name, data):
    inputs, build = data.draw(CASES[name], label=name)
    dtype_py, shape_py, out_py, grads_py = _run_on("python", inputs, build)
    dtype_np, shape_np, out_np, grads_np = _run_on("numpy", inputs, build)
    assert (dtype_py, shape_py) == (dtype_np, shape_np)
    _assert_same(out_py, out_np, f"{name} output")
    assert (grads_py is None) == (grads_np is None)
    for i, (g_py, g_np) in enumerate(zip(grads_py or [], grads_np or [])):
        assert (g_py is None) == (g_np is None), f"{name}: input {i} has a gradient on one backend only"
        if g_py is not None:
            _assert_same(g_py, g_np, f"{name} ∂/∂input{i}")


@needs_numpy
def test_the_comparison_itself_catches_a_difference():
    """The property above can fail: a last-digit change beyond 1e-12 is reported, one within it is not."""
    _assert_same([1.0, [2.0, 3.0]], [1.0, [2.0, 3.0 * (1 + 1e-13)]], "close")
    with pytest.raises(AssertionError, match="differ"):
        _assert_same([1.0, 2.0], [1.0, 2.0 * (1 + 1e-11)], "far")
    with pytest.raises(AssertionError):
        _assert_same([True], [False], "flags")


@needs_numpy
def test_the_mlp_training_step_gives_the_same_losses_on_both_backends():
    """Three SGD steps of the lecture's MLP block: the same losses and weights on both backends."""
    from tinygrad_edu.optim import SGD
    results = {}
    for backend in ("python", "numpy"):
        with tg.use_backend(backend):
            x = tg.randn(4, 8, seed=1)
            target = tg.randn(4, 8, seed=2)
            w_up = tg.randn(32, 8, seed=3, requires_grad=True)
            b_up = tg.zeros(32, requires_grad=True)
            w_down = tg.randn(8, 32, seed=4, requires_grad=True)
            b_down = tg.zeros(8, requires_grad=True)
        optimizer = SGD([w_up, b_up, w_down, b_down], lr=0.01)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            y = x + F.linear(F.linear(x, w_up, b_up).relu(), w_down, b_down)
            loss = F.mse_loss(y, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results[backend] = losses, w_up.tolist(), b_down.tolist()
    for a, b, what in zip(results["python"], results["numpy"], ("losses", "W_up", "b_down")):
        _assert_same(a, b, what)


# ================================================================================================
# The benchmark command (its figures are not checked here: speed lives in the benchmark itself)
# ================================================================================================


def test_bench_json_has_a_checked_loss_and_a_time_for_each_implementation(capsys):
    import json
    from tinygrad_edu.cli import main
    code = main(["bench", "--sizes", "tiny", "--repeat", "2", "--budget", "0.5", "--chain", "200", "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 0 and results["all_agree"]
    tiny = results["sizes"]["tiny"]
    assert tiny["shape"] == {"batch": 4, "d_model": 8, "d_hidden": 32}
    ran = {key: entry for key, entry in tiny["results"].items() if "skipped" not in entry}
    assert {"tinygrad_edu_python", "hand_python"} <= set(ran)
    reference = ran["hand_python"]["losses"]
    for key, entry in ran.items():
        assert entry["agrees"] and len(entry["losses"]) == 3
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(entry["losses"], reference)), key
        assert 1 <= len(entry["times_ms"]) <= 2 and entry["median_ms"] > 0
    assert [chain["ops"] for chain in results["chain"]][0] == 201
    assert all(chain["gradient_exact"] for chain in results["chain"])
    assert {hook["backend"] for hook in results["trace_hook"]} >= {"python"}
    assert any(target["claim"].startswith("pure-Python backend") for target in results["targets"])


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "huge"], "unknown size huge"),
    (["--repeat", "0"], "expected a positive integer, got 0"),
    (["--budget", "soon"], "expected a number of seconds"),
    (["--chain", "-5"], "must be 0 (skip) or more"),
])
def test_bench_refuses_bad_arguments_with_usage_and_exit_2(argv, message, capsys):
    from tinygrad_edu.cli import main
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: tinygrad-edu bench" in err and message in err


# ================================================================================================
# Dtypes: PyTorch's promotions (bool < int64 < float64), on both backends
# ================================================================================================

_INT64 = st.one_of(st.integers(-5, 5), st.integers(-2 ** 63, 2 ** 63 - 1), st.sampled_from([2 ** 63 - 1, -2 ** 63]))
_VALUES = {"bool": st.booleans(), "int64": _INT64, "float64": tgst.finite_floats(-1e3, 1e3)}
_RANK = {"bool": 0, "int64": 1, "float64": 2}


def _wrap64(v):
    return (v + 2 ** 63) % 2 ** 64 - 2 ** 63


def _expected(op, a, b, dtype):
    """PyTorch's result of one element: bool arithmetic is logic, int64 wraps, / is always a float."""
    if op == "add":
        value = (a or b) if dtype == "bool" else a + b
    elif op == "mul":
        value = (a and b) if dtype == "bool" else a * b
    elif op == "sub":
        value = a - b
    else:
        return a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a) * math.copysign(1.0, b))
    return _wrap64(value) if dtype == "int64" else value


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "truediv"])
@pytest.mark.parametrize("left, right", [(a, b) for a in _VALUES for b in _VALUES])
@given(data=st.data())
def test_arithmetic_promotes_as_pytorch_and_int64_wraps(backend_name, op, left, right, data):
    """tensor ∘ tensor: the wider dtype wins (bool < int64 < float64); bool + bool is "or" and bool · bool
    "and" (bool, not 2); int64 wraps around on overflow; − with a bool tensor is refused, as in PyTorch."""
    size = data.draw(st.integers(1, 4))
    xs = data.draw(st.lists(_VALUES[left], min_size=size, max_size=size))
    ys = data.draw(st.lists(_VALUES[right], min_size=size, max_size=size))
    with tg.use_backend(backend_name):
        x, y = tg.tensor(xs, dtype=left), tg.tensor(ys, dtype=right)
        method = getattr(x, f"__{op}__")
        if op == "sub" and "bool" in (left, right):
            with pytest.raises(TypeError, match="sub: subtraction with a bool tensor is not supported"):
                method(y)
            return
        out = method(y)
    dtype = "float64" if op == "truediv" else max(left, right, key=_RANK.get)
    assert out.dtype == dtype
    expected = [_expected(op, a, b, dtype) for a, b in zip(xs, ys)]
    got = out.tolist()
    if dtype == "float64":
        _assert_same(got, expected, op)
    else:
        assert got == expected and all(type(v) is type(e) for v, e in zip(got, expected))


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@pytest.mark.parametrize("dtype", list(_VALUES))
@pytest.mark.parametrize("number", [True, 3, 2.5])
def test_a_python_number_promotes_as_pytorch(backend_name, dtype, number):
    """tensor + number: a bool keeps the tensor's dtype, an int makes a bool tensor int64 and keeps the
    others, a float makes float64; on the left the same."""
    with tg.use_backend(backend_name):
        t = tg.tensor({"bool": [True, False], "int64": [4, -2], "float64": [1.5, -0.5]}[dtype])
        right, left = t + number, number * t
    expected = ("float64" if isinstance(number, float) or dtype == "float64" else
                dtype if isinstance(number, bool) else "int64")
    assert right.dtype == left.dtype == expected


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@given(values=st.lists(_INT64, min_size=1, max_size=6), flags=st.lists(st.booleans(), min_size=1, max_size=6))
def test_integer_and_bool_unary_ops_and_reductions_are_pytorchs(backend_name, values, flags):
    """−int64 and |int64| wrap (−(−2⁶³) = −2⁶³), sums of int64 wrap, −bool is refused, min/max of bools are
    bools, min/argmin of ints never overflow."""
    with tg.use_backend(backend_name):
        ints, bools = tg.tensor(values, dtype="int64"), tg.tensor(flags, dtype="bool")
        assert (-ints).tolist() == [_wrap64(-v) for v in values]
        assert ints.abs().tolist() == [_wrap64(abs(v)) for v in values]
        assert ints.sum().item() == _wrap64(sum(values)) and ints.sum().dtype == "int64"
        assert ints.min().item() == min(values) and ints.max().item() == max(values)
        assert ints.argmin().item() == values.index(min(values))
        assert ints.argmax().item() == values.index(max(values))
        assert bools.sum().item() == sum(flags) and bools.sum().dtype == "int64"
        assert (bools.max().item(), bools.min().item()) == (max(flags), min(flags))
        assert bools.max().dtype == bools.min().dtype == "bool"
        assert bools.argmin().item() == flags.index(min(flags))
        with pytest.raises(TypeError, match="the - operator is not supported on bool arrays"):
            -bools


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@pytest.mark.parametrize("make, message", [
    (lambda: tg.tensor([2 ** 63]), r"Python integer 9223372036854775808 out of bounds for int64"),
    (lambda: tg.tensor([1, 2]) + 2 ** 70, r"Python integer 1180591620717411303424 out of bounds for int64"),
    (lambda: tg.full((2,), -2 ** 63 - 1, dtype="int64"), r"out of bounds for int64"),
])
def test_ints_beyond_int64_are_one_clear_error_on_both_backends(backend_name, make, message):
    with tg.use_backend(backend_name):
        with pytest.raises(OverflowError, match=message):
            make()


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e19, -1e30])
def test_floats_that_int64_cannot_hold_are_refused_when_converting(backend_name, value):
    """NumPy would give −2⁶³ and a warning; both backends say which value does not convert."""
    with tg.use_backend(backend_name):
        x = tg.tensor([1.5, value])
        with pytest.raises(ValueError, match=r"cannot convert .* to int64"):
            x.long()
        with pytest.raises(ValueError, match=r"cannot convert .* to int64"):
            tg.tensor([1.0, value], dtype="int64")
        assert tg.tensor([2.7, -2.7]).long().tolist() == [2, -2]       # truncated toward 0, as NumPy


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
def test_mixed_dtypes_meet_as_floats_in_maximum_where_and_cat(backend_name):
    """An int meeting a float becomes a float in every kernel (not only in + and *)."""
    with tg.use_backend(backend_name):
        ints, floats = tg.tensor([3, -2]), tg.tensor([2.5, 0.5])
        for out in (ints.maximum(floats), ints.minimum(2.5), tg.where(tg.tensor([True, False]), ints, floats),
                    tg.cat([ints, floats])):
            assert out.dtype == "float64" and all(type(v) is float for v in out.tolist())


# ================================================================================================
# The array kernels check shapes as NumPy does, in the same words on both backends
# ================================================================================================


def _array(backend_name, shape, dtype="float64"):
    module = load(backend_name)
    return module.from_flat([float(i) for i in range(math.prod(shape))], shape, dtype)


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
@pytest.mark.parametrize("call, message", [
    (lambda a: a((2, 3)).reshape((4,)), r"cannot reshape array of size 6 into shape \(4,\)"),
    (lambda a: a((2, 3)).reshape((7, -1)), r"cannot reshape array of size 6 into shape \(7, -1\)"),
    (lambda a: a((2, 3)).reshape((-2, -3)), r"cannot reshape array of size 6 into shape \(-2, -3\)"),
    (lambda a: a((2, 4)).matmul(a((3, 4))),
     r"matmul: shapes \(2, 4\) and \(3, 4\) do not fit: the inner sizes 4 and 3 differ"),
    (lambda a: a((4,)).matmul(a((3,))), r"matmul: shapes \(4,\) and \(3,\) do not fit"),
    (lambda a: a((2, 2, 3)).matmul(a((3, 3, 2))), r"matmul: .*the batch shapes \(2,\) and \(3,\) do not broadcast"),
    (lambda a: a(()).matmul(a((3,))), r"matmul: shapes \(\) and \(3,\): a 0-d array"),
    (lambda a: a((2,)).expand((2, 3)), r"cannot broadcast an array of shape \(2,\) to shape \(2, 3\)"),
    (lambda a: a((2, 3)).expand((3,)), r"cannot broadcast an array of shape \(2, 3\) to shape \(3,\)"),
    (lambda a: a((1, 3)).expand((2, 4)), r"cannot broadcast an array of shape \(1, 3\) to shape \(2, 4\)"),
    (lambda a: a((1, 3)).expand((3,)), r"cannot broadcast an array of shape \(1, 3\) to shape \(3,\)"),
    (lambda a: a((1, 3)).expand((-1, 3)), r"cannot broadcast an array of shape \(1, 3\) to shape \(-1, 3\)"),
])
def test_array_kernels_refuse_shapes_that_do_not_fit(backend_name, call, message):
    """(2, 4) @ (3, 4) silently gave (2, 4), expanding (2,) to (2, 3) wrong values and reshape dropped
    elements; now each is a ValueError, the same on both backends."""
    with pytest.raises(ValueError, match=message):
        call(lambda shape: _array(backend_name, shape))


@pytest.mark.parametrize("backend_name", [pytest.param(name, marks=needs_numpy) if name == "numpy" else name
                                          for name in ("python", "numpy")])
def test_array_kernels_accept_what_numpy_accepts(backend_name):
    """A -1 in reshape is worked out; 1-D operands of matmul are a row and a column, as in NumPy."""
    a = lambda shape: _array(backend_name, shape)      # noqa: E731
    assert a((2, 3)).reshape((-1, 2)).shape == (3, 2)
    assert a((3,)).matmul(a((3,))).tolist() == 5.0
    assert a((2, 3)).matmul(a((3,))).tolist() == [5.0, 14.0]
    assert a((3,)).matmul(a((2, 3, 2))).shape == (2, 2)
    assert a((1, 3)).expand((2, 2, 3)).tolist() == [[[0.0, 1.0, 2.0]] * 2] * 2


_KERNEL_VALUES = {"float64": [1.5, -2.0, 0.0, math.nan, math.inf, -0.0], "int64": [3, -2, 0, 2 ** 62, -2 ** 63, 7],
                  "bool": [True, False, True, False, True, True]}
_UNARY_KERNELS = ["__neg__", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sign", "contiguous"]
_BINARY_KERNELS = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
                   "__pow__", "__rpow__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "maximum",
                   "minimum"]


def _outcome(call):
    """(dtype, shape, values) of a kernel's result, or the name of the error it raised."""
    try:
        out = call()
    except (TypeError, ValueError, OverflowError) as error:
        return type(error).__name__
    return out.dtype, out.shape, out.tolist()


def _assert_same_outcome(python, numpy, what):
    if isinstance(python, str) or isinstance(numpy, str):
        assert python == numpy, f"{what}: {python} (python) and {numpy} (numpy)"
        return
    assert python[:2] == numpy[:2], f"{what}: {python[:2]} (python) and {numpy[:2]} (numpy)"
    flat_py, flat_np = _flat(python[2]), _flat(numpy[2])
    assert [type(v) for v in flat_py] == [type(v) for v in flat_np], f"{what}: {flat_py} and {flat_np}"
    _assert_same(flat_py, flat_np, what)


@needs_numpy
@pytest.mark.parametrize("dtype", list(_KERNEL_VALUES))
def test_every_kernel_gives_the_same_dtype_values_and_errors_on_both_backends(dtype):
    """Each array kernel, on each dtype and each pair of dtypes (and with a Python number): the same dtype,
    the same values of the same Python types (a bool beside an int is cast, a float sign is a float) and
    the same errors on both backends, nan, ±∞, ±0 and int64's extremes included."""
    modules = {name: load(name) for name in ("python", "numpy")}

    def make(name, kind, shape=(2, 3)):
        return modules[name].from_flat(_KERNEL_VALUES[kind], shape, kind)

    def both(what, call):
        _assert_same_outcome(_outcome(lambda: call("python")), _outcome(lambda: call("numpy")), what)

    for kernel in _UNARY_KERNELS:
        both(f"{kernel} {dtype}", lambda name: getattr(make(name, dtype), kernel)())
    for kernel, axes in [("sum", None), ("sum", (1,)), ("max", None), ("max", (0,)), ("argmax", None), ("argmax", 1)]:
        both(f"{kernel}({axes}) {dtype}", lambda name: getattr(make(name, dtype), kernel)(axes))
    for other in _KERNEL_VALUES:
        for kernel in _BINARY_KERNELS:
            both(f"{kernel} {dtype} {other}", lambda name: getattr(make(name, dtype), kernel)(make(name, other)))
        both(f"where {dtype} {other}", lambda name: make(name, "bool").where(make(name, dtype), make(name, other)))
        both(f"matmul {dtype} {other}", lambda name: make(name, dtype).matmul(make(name, other, (3, 2))))
        both(f"cat {dtype} {other}", lambda name: modules[name].cat([make(name, dtype), make(name, other)], 0))
        both(f"astype {dtype} {other}", lambda name: make(name, dtype).astype(other))
    for number in (2, -1, 2.5, True):
        for kernel in _BINARY_KERNELS:
            both(f"{kernel} {dtype} {number!r}", lambda name: getattr(make(name, dtype), kernel)(number))
