"""The backward engine: accumulation, switches, conventions at kinks and ties, memory."""

import gc
import inspect
import math
import re
import string
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor
from tinygrad_edu.testing import GradcheckError, gradcheck
from tinygrad_edu.testing import strategies as tgst

pytestmark = pytest.mark.usefixtures("backend")


def close(actual, expected, tol=1e-12):
    """Nested lists (or numbers) equal up to ``tol``, relative for large values."""
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(close(a, e, tol) for a, e in zip(actual, expected)))
    return math.isclose(actual, expected, rel_tol=tol, abs_tol=tol)


# ---- accumulation -----------------------------------------------------------------------------


def test_a_plus_a_counts_both_uses():
    a = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (a + a).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_times_a_is_two_a():
    a = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (a * a).sum().backward()
    assert a.grad.tolist() == [2.0, -4.0, 6.0]


@given(tgst.tensors(tgst.shapes(1, 2, 1, 3), requires_grad=True))
def test_tensor_used_in_several_places(x):
    # y feeds three branches; its gradient is the sum of the three.
    def f(t):
        y = t * 2.0
        return (y * y + y.tanh() + y).sum()

    f(x).backward()
    expected = [2.0 * (2.0 * (2.0 * v)) + 2.0 * (1.0 - math.tanh(2.0 * v) ** 2) + 2.0
                for v in _flat(x.tolist())]
    assert close(_flat(x.grad.tolist()), expected, 1e-9)
    assert gradcheck(f, x)


def _flat(nested):
    if not isinstance(nested, list):
        return [nested]
    return [v for item in nested for v in _flat(item)]


def test_tensor_used_directly_and_deep_inside_a_branch():
    # x reaches the output by a short path and a long one; the long one must not be skipped,
    # whichever side of the + it is on.
    x = Tensor(2.0, requires_grad=True)
    (x + (x * 3.0).exp().log()).backward()
    assert x.grad.item() == pytest.approx(4.0, rel=1e-15)
    x.grad = None
    ((x * 3.0).exp().log() + x).backward()
    assert x.grad.item() == pytest.approx(4.0, rel=1e-15)


@given(tgst.tensors(tgst.shapes(1, 1, 1, 3), requires_grad=True))
def test_residual_block_reuses_its_input(x):
    # the lecture's residual shape: x + W·f(x)
    w = Tensor([[0.5 * (i - j) for j in range(x.shape[0])] for i in range(x.shape[0])])
    assert gradcheck(lambda t: t + w @ t.tanh(), x)


def test_backward_twice_accumulates_on_leaves():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_setting_grad_to_none_resets_accumulation():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_intermediate_grads_are_not_kept_without_retain_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    (y * y).sum().backward()
    assert y.grad is None
    assert not y.is_leaf


def test_retain_grad_keeps_an_intermediate_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]       # ∂(y²)/∂y = 2y
    assert x.grad.tolist() == [8.0, 16.0]      # chain rule: 2y · 2


def test_backward_with_explicit_gradient():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    y.backward(Tensor([[1.0, 0.0], [0.5, -1.0]]))
    assert x.grad.tolist() == [[2.0, 0.0], [3.0, -8.0]]


def test_grad_is_a_tensor_of_the_leaf_shape_without_grad():
    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    (x * 2.0).sum().backward()
    assert isinstance(x.grad, Tensor)
    assert x.grad.shape == (1, 3)
    assert not x.grad.requires_grad


# ---- switches ---------------------------------------------------------------------------------


def test_no_grad_context_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2.0).exp().sum()
    assert tg.is_grad_enabled()
    assert not y.requires_grad
    assert y.is_leaf


def test_no_grad_decorator_records_nothing():
    @tg.no_grad()
    def double(t):
        assert not tg.is_grad_enabled()
        return t * 2.0

    x = Tensor([1.0, 2.0], requires_grad=True)
    y = double(x)
    assert not y.requires_grad
    assert y.is_leaf
    assert tg.is_grad_enabled()
    assert y.tolist() == [2.0, 4.0]


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(RuntimeError):
        with tg.no_grad():
            raise RuntimeError("inside")
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad
    assert not z.requires_grad


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert not d.requires_grad
    assert d.is_leaf
    assert d.tolist() == y.tolist()
    (d * x).sum().backward()
    assert x.grad.tolist() == [3.0, 6.0]       # d is a constant: only the direct use of x counts


def test_requires_grad_underscore_turns_a_tensor_into_a_leaf_that_learns():
    x = Tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    x.requires_grad_(False)
    assert not x.requires_grad


def test_ops_on_tensors_without_grad_record_nothing():
    x = Tensor([1.0, 2.0])
    y = x * 2.0 + 1.0
    assert not y.requires_grad
    assert y.is_leaf


# ---- deep graphs and memory ---------------------------------------------------------------------


def test_chain_of_100000_ops_backpropagates():
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 100_000.5
    assert x.grad.item() == 1.0


def test_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        hidden = (x * 2.0).exp()
        probe = weakref.ref(hidden)
        loss = (hidden * x).sum()
        loss.backward()
        del hidden, loss
        assert probe() is None, "an intermediate outlived its graph: a reference cycle"
        assert x.grad is not None
    finally:
        gc.enable()


def test_graph_is_freed_without_backward_too():
    gc.collect()
    gc.disable()
    try:
        x = Tensor([1.0, 2.0], requires_grad=True)
        hidden = x.tanh()
        probe = weakref.ref(hidden)
        loss = (hidden * hidden).sum()
        del hidden, loss
        assert probe() is None
    finally:
        gc.enable()


# ---- conventions at kinks and ties (exact) -------------------------------------------------------


def test_relu_derivative_at_zero_is_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_abs_derivative_at_zero_is_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [-1.0, 0.0, 1.0]


def test_max_ties_split_the_gradient_evenly():
    x = Tensor([1.0, 3.0, 3.0, -2.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_max_over_a_dim_splits_ties_per_row():
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 4.0, 0.0]], requires_grad=True)
    x.max(dim=1).sum().backward()
    assert close(x.grad.tolist(), [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]], 1e-15)


def test_min_ties_split_the_gradient_evenly():
    x = Tensor([[1.0, -1.0], [-1.0, 5.0]], requires_grad=True)
    x.min().backward()
    assert x.grad.tolist() == [[0.0, 0.5], [0.5, 0.0]]


def test_min_over_a_dim_keepdim_splits_ties():
    x = Tensor([[0.0, 1.0], [3.0, 1.0]], requires_grad=True)
    x.min(dim=0, keepdim=True).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.5], [0.0, 0.5]]


def test_maximum_and_minimum_ties_split_evenly():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 5.0, 0.0], requires_grad=True)
    a.maximum(b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0]
    assert b.grad.tolist() == [0.5, 1.0, 0.0]
    a.grad = b.grad = None
    a.minimum(b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0]
    assert b.grad.tolist() == [0.5, 0.0, 1.0]


# ---- algebra ----------------------------------------------------------------------------------


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_transpose_of_a_product(n, k, m, data):
    a = data.draw(tgst.tensors((n, k)))
    b = data.draw(tgst.tensors((k, m)))
    assert close((a @ b).T.tolist(), (b.T @ a.T).tolist(), 1e-12)


# ---- a student's own Function --------------------------------------------------------------------


class Cube(Function):
    """z = x³      ∂L/∂x = ∂L/∂z · 3x²"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * x * 3.0


class Hypot(Function):
    """z = √(x² + y²)      ∂L/∂x = ∂L/∂z · x/z      ∂L/∂y = ∂L/∂z · y/z"""

    @staticmethod
    def forward(ctx, x, y):
        z = (x * x + y * y).sqrt()
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        return grad * x / z, grad * y / z


def test_student_function_forward_and_backward():
    x = Tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.tolist() == [1.0, -8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


@given(tgst.tensors(requires_grad=True, high=2.0, low=-2.0))
def test_student_function_passes_gradcheck(x):
    assert gradcheck(Cube.apply, x)


@given(tgst.broadcastable_shapes(2, max_dims=2, max_side=3), st.data())
def test_student_binary_function_gets_broadcasting_for_free(shapes, data):
    a_shape, b_shape = shapes
    a = data.draw(tgst.tensors(a_shape, tgst.nonzero_floats(0.2), requires_grad=True))
    b = data.draw(tgst.tensors(b_shape, tgst.nonzero_floats(0.2), requires_grad=True))
    assert gradcheck(Hypot.apply, a, b)


def test_student_function_accepts_python_numbers():
    z = Hypot.apply(Tensor([3.0, 6.0]), 4.0)
    assert z.tolist() == [5.0, math.hypot(6.0, 4.0)]


def test_an_op_on_a_parameter_gives_a_plain_tensor_and_its_constants_join_the_inputs_backend(backend):
    p = tg.nn.Parameter([3.0, 6.0])
    z = Hypot.apply(p, 4.0)
    assert type(z) is Tensor and z.requires_grad and z.backend == backend
    assert z.tolist() == [5.0, math.hypot(6.0, 4.0)]


def test_apply_needs_a_tensor_among_its_inputs():
    with pytest.raises(TypeError, match="Cube.apply: needs at least one tensor"):
        Cube.apply(2.0)


# ---- the layers: autograd walks nodes and returns arrays; tensor.py makes tensors -------------------


def test_run_backward_returns_each_leafs_gradient_as_an_array_and_stores_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3.0).retain_grad()
    loss = (h * h).sum()
    delivered = tg.autograd.run_backward(loss, Tensor(1.0).data)
    by_node = {id(node): grad for node, grad in delivered}
    assert set(by_node) == {id(x), id(h)}
    assert by_node[id(x)].tolist() == [18.0, 36.0] and by_node[id(h)].tolist() == [6.0, 12.0]
    assert not isinstance(by_node[id(x)], Tensor)
    assert x.grad is None and h.grad is None        # storing .grad is tensor.py's part (Tensor.backward)


def test_autograd_never_names_a_tensor_and_tensor_py_reaches_into_nothing_private():
    import ast
    import pathlib
    package = pathlib.Path(tg.__file__).parent
    autograd_tree = ast.parse((package / "autograd.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(autograd_tree) if isinstance(n, ast.Name)} | \
            {n.attr for n in ast.walk(autograd_tree) if isinstance(n, ast.Attribute)}
    imported = {alias.name for n in ast.walk(autograd_tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for alias in n.names} | {n.module for n in ast.walk(autograd_tree) if isinstance(n, ast.ImportFrom)}
    assert "Tensor" not in names and not any("tensor" in (name or "") for name in imported)
    tensor_tree = ast.parse((package / "tensor.py").read_text(encoding="utf-8"))
    private = [n.attr for n in ast.walk(tensor_tree) if isinstance(n, ast.Attribute)
               and isinstance(n.value, ast.Name) and n.value.id in ("autograd", "ops") and n.attr.startswith("_")]
    assert private == []


# ---- gradcheck itself -------------------------------------------------------------------------


def test_gradcheck_leaves_grads_as_they_were():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = Tensor([5.0, 5.0])
    assert gradcheck(lambda t: (t * t).sum(), x)
    assert x.grad.tolist() == [5.0, 5.0]


def test_gradcheck_passes_other_inputs_through():
    x = Tensor([[1.0, -2.0]], requires_grad=True)
    constant = Tensor([[3.0], [0.5]])
    assert gradcheck(lambda t, c, k: (t * c) ** k, x, constant, 2)


def test_gradcheck_on_tensors_of_another_backend(backend):
    other = next((name for name in ("python", "numpy") if name != backend), None)
    try:
        with tg.use_backend(other):
            x = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    except ImportError:
        pytest.skip(f"backend {other} is not installed")
    assert x.backend == other
    assert gradcheck(lambda t: (t @ t).tanh(), x)


class CountingRecorder:
    def __init__(self):
        self.forward = self.backward = 0

    def on_forward(self, ctx, inputs, output, kwargs):
        self.forward += 1

    def on_backward(self, ctx, output, grad, input_grads):
        self.backward += 1

    def on_update(self, *args):
        pass


def test_gradcheck_records_only_the_functions_own_pass_in_a_trace():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    recorder = CountingRecorder()
    previous = tg.autograd.set_recorder(recorder)
    try:
        assert gradcheck(lambda t: t.exp() * 2.0, x)
    finally:
        tg.autograd.set_recorder(previous)
    assert recorder.forward == 2      # exp and mul, once: the 12 numeric evaluations are not seen
    assert recorder.backward == 2


# ---- each op states its math once, with the symbols of its forward ------------------------------


def _fields(text: str) -> list:
    """The str.format fields of a formula: (symbol, format spec)."""
    return [(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name is not None]


@pytest.mark.parametrize("name", tg.ops.__all__)
def test_each_op_states_its_math_with_the_symbols_of_its_forward(name):
    op = getattr(tg.ops, name)
    parameters = list(inspect.signature(op.forward).parameters)[1:]           # after ctx
    output, equals, _ = op.formula.partition("=")
    assert equals and re.fullmatch(r"\{\w+\}", output.strip()), f"{name}: the output symbol must lead the formula"
    output = output.strip()[1:-1]
    assert output not in parameters
    symbols = set(parameters) | {output}
    for field, spec in _fields(op.formula) + _fields(op.derivative):
        assert field in symbols, f"{name}: {{{field}}} is neither forward's parameter nor the output"
        assert spec in ("", "T"), f"{name}: unknown format spec {spec!r}"
    assert {field for field, _ in _fields(op.formula)} - {output}, f"{name}: the formula names no input"
    clause_inputs = []
    for clause in op.derivative.split(";"):
        left = clause.split("=", 1)[0].strip()
        assert re.fullmatch(r"∂L/∂\{\w+\}", left), f"{name}: clause {clause.strip()!r} must start ∂L/∂{{input}} ="
        clause_inputs.append(left[5:-1])
        assert "∂L/∂{" + output + "}" in clause, f"{name}: a clause without ∂L/∂{{{output}}} is not a chain rule"
    assert len(set(clause_inputs)) == len(clause_inputs) and set(clause_inputs) <= set(parameters)
    assert "∂" not in (op.__doc__ or ""), f"{name}: the docstring repeats the derivative; keep it in prose"


# ---- changes in place: backward refuses values and histories that are not the forward pass's -------


def test_backward_refuses_a_saved_input_changed_in_place_naming_the_op_and_the_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True, name="w")
    loss = (x * w).sum()
    with tg.no_grad():
        w.mul_(2.0)                         # Mul saved w to compute ∂L/∂x = w
    with pytest.raises(RuntimeError, match=re.escape("backward: Mul needs its input 1 'w' (shape (2,)) as it was in "
                                                     "the forward pass, but mul_ changed it in place afterwards")):
        loss.backward()
    y = x * w
    with tg.no_grad():
        w[0:1].add_(1.0)                    # through a view: the same storage
    with pytest.raises(RuntimeError, match="Mul needs its input 1 'w'.* but add_ changed it"):
        y.sum().backward()


def test_backward_refuses_a_saved_output_changed_in_place():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                             # Exp saved its output
    y *= 2.0
    with pytest.raises(RuntimeError, match="backward: Exp needs a value it saved .* but mul_ changed it in place"):
        y.sum().backward()


def test_changes_that_backward_does_not_depend_on_are_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    loss = (x + w).sum()                    # Add saves nothing
    with tg.no_grad():
        w.mul_(2.0)
    loss.backward()
    assert x.grad.tolist() == [1.0, 1.0]
    loss = (x * w).sum()
    loss.backward()
    with tg.no_grad():
        w.zero_()                           # after backward: nothing needs the old values any more
    assert x.grad.tolist() == [7.0, 9.0]


@given(tgst.tensors((2, 3), requires_grad=True), tgst.tensors((3,), tgst.nonzero_floats(0.5), requires_grad=True))
def test_in_place_ops_on_intermediates_join_the_graph(x, w):
    def changed_in_place(x, w):
        y = x * 3.0
        y *= w                              # Mul needs y's old value: it gets a copy
        y += x
        y -= w
        y /= w
        t = Tensor.zeros(2, 3)
        t += y                              # a constant that starts recording
        t.add_(x, alpha=2.0)
        return t

    def out_of_place(x, w):
        return (((x * 3.0) * w + x - w) / w) + x * 2.0

    assert close(changed_in_place(x, w).tolist(), out_of_place(x, w).tolist(), 1e-12)
    assert gradcheck(changed_in_place, x, w)


def test_an_op_that_used_a_tensor_before_it_changed_in_place_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    h = y.sigmoid()                         # used y's value from before
    y += 1.0                                # y now stands for y + 1
    with pytest.raises(RuntimeError, match=re.escape("backward: Sigmoid used its input 0 (shape (2,)) before add_ "
                                                     "changed it in place")):
        (y.sum() + h.sum()).backward()
    x.grad = None
    y.sum().backward()                      # the graph of the new y alone is fine
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_view_of_a_tensor_in_the_graph_cannot_change_in_place_while_recording():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="add_: this tensor is a view of a tensor in the graph"):
        y[0].add_(1.0)


# ---- a student's op: every backward result is checked -------------------------------------------


class SumsItsGradient(Function):
    """A classic mistake: backward returns grad.sum(), a scalar, instead of a gradient shaped like x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return (grad * x * 2.0).sum()


class ForgetsToSave(Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x * 2.0


class OneGradientForTwoInputs(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad


class ReturnsANumber(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        return 2.0


def test_a_gradient_of_the_wrong_shape_names_the_op_the_input_and_both_shapes():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(tg.ShapeError, match=re.escape("SumsItsGradient.backward: the gradient for input 0 has shape (), "
                                                      "but the input has shape (2, 2)")):
        SumsItsGradient.apply(x).sum().backward()
    assert x.grad is None
    with pytest.raises(GradcheckError, match="SumsItsGradient.backward: the gradient for input 0 has shape"):
        gradcheck(SumsItsGradient.apply, x)


def test_forgetting_save_for_backward_says_what_to_call():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AttributeError, match=re.escape("ForgetsToSave.backward reads ctx.saved_tensors, but forward "
                                                       "saved nothing: call ctx.save_for_backward(...) in forward")):
        ForgetsToSave.apply(x).sum().backward()


def test_one_gradient_for_two_inputs_is_an_error_not_a_silent_none():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape("OneGradientForTwoInputs.backward returned 1 gradient(s) for 2 "
                                                     "input(s)")):
        OneGradientForTwoInputs.apply(a, b).sum().backward()


def test_a_gradient_that_is_not_an_array_names_the_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="ReturnsANumber.backward: the gradient for input 0 is a float"):
        ReturnsANumber.apply(x).sum().backward()
