"""Bad input gets one clear error that names the op and the shapes or values at fault."""

import re
import subprocess
import sys
import textwrap

import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import ShapeError, Tensor

pytestmark = pytest.mark.usefixtures("backend")


def raises(error, text):
    """pytest.raises matching ``text`` literally (shapes are full of regex characters)."""
    return pytest.raises(error, match=re.escape(text))


def test_shape_error_is_a_value_error():
    assert issubclass(ShapeError, ValueError)


# ---- making tensors ---------------------------------------------------------------------------


def test_ragged_list():
    with raises(ValueError, "ragged nested list") as info:
        Tensor([[1.0, 2.0], [3.0]])
    assert "[3.0]" in str(info.value)


def test_ragged_list_mixing_numbers_and_lists():
    with raises(ValueError, "ragged nested list"):
        Tensor([1.0, [2.0]])
    with raises(ValueError, "ragged nested list"):
        Tensor([[1.0], 2.0])


def test_string_data():
    with raises(TypeError, "cannot make a tensor from a string: 'abc'"):
        Tensor("abc")
    with raises(TypeError, "expected numbers, found str 'x'"):
        Tensor([1.0, "x"])


def test_other_objects():
    with raises(TypeError, "expected a number or nested lists of numbers, got dict"):
        Tensor({"a": 1})
    with raises(TypeError, "expected numbers, found NoneType None"):
        Tensor([None])


def test_int_tensor_cannot_require_grad():
    with raises(TypeError, "only float64 tensors can require gradients, this one is int64"):
        Tensor([1, 2], requires_grad=True)
    t = Tensor([1, 2], dtype=tg.int64)
    with raises(TypeError, "only float64 tensors can require gradients"):
        t.requires_grad_()
    assert not t.requires_grad


def test_unknown_dtype():
    with raises(TypeError, "unsupported dtype 'float32'"):
        Tensor([1.0], dtype="float32")


def test_bad_sizes():
    with raises(ValueError, "sizes must be non-negative integers, got (2, -1)"):
        Tensor.zeros(2, -1)
    with raises(TypeError, "ones: sizes must be integers, got 2.5 (float)"):     # PyTorch's TypeError
        Tensor.ones(2.5)


def test_arange_zero_step():
    with raises(ValueError, "arange: step must not be 0"):
        Tensor.arange(0, 3, 0)


def test_seed_and_generator_together():
    with raises(ValueError, "give either seed= or generator=, not both"):
        Tensor.randn(2, seed=1, generator=tg.Generator(1))


def test_unknown_backend():
    with raises(ValueError, "unknown backend 'cuda': choose one of python, numpy"):
        tg.set_backend("cuda")


# ---- shapes in elementwise ops ------------------------------------------------------------------


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a.maximum(b), "maximum"),
    (lambda a, b: a.minimum(b), "minimum"),
])
def test_broadcasting_mismatch_names_op_and_shapes(op, name):
    with raises(ShapeError, f"{name}: shapes (2, 3) and (4,) cannot be broadcast together"):
        op(Tensor.zeros(2, 3), Tensor.zeros(4))


def test_broadcasting_mismatch_in_where():
    with raises(ShapeError, "where: shapes (2,) and (3,) and (2,) cannot be broadcast together"):
        tg.where(Tensor.zeros(2) > 0, Tensor.zeros(3), Tensor.zeros(2))


def test_unsupported_operand():
    with raises(TypeError, "unsupported operand: Tensor and str"):
        Tensor([1.0]) + "a"


def test_clamp_needs_a_bound():
    with raises(ValueError, "clamp: give min, max or both"):
        Tensor([1.0]).clamp()


# ---- matmul -----------------------------------------------------------------------------------


def test_matmul_inner_size_mismatch():
    with raises(ShapeError, "matmul: (2, 3) @ (4, 5): inner sizes 3 and 4 differ"):
        Tensor.zeros(2, 3) @ Tensor.zeros(4, 5)


def test_matmul_vector_mismatch():
    with raises(ShapeError, "matmul: (3,) @ (4,): inner sizes 3 and 4 differ"):
        Tensor.zeros(3) @ Tensor.zeros(4)


def test_matmul_0d():
    with raises(ShapeError, "matmul: () @ (2,): both operands need at least one dimension"):
        Tensor(1.0) @ Tensor.zeros(2)


def test_matmul_batch_mismatch():
    with raises(ShapeError, "matmul: (2, 1, 3) @ (3, 3, 4): batch shapes (2,) and (3,) cannot "
                            "be broadcast"):
        Tensor.zeros(2, 1, 3) @ Tensor.zeros(3, 3, 4)


# ---- reductions and dims ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var"])
def test_reduction_dim_out_of_range(name):
    with raises(ShapeError, f"{name}: dim 2 is out of range for a tensor with 2 dimension(s)"):
        getattr(Tensor.ones(2, 3), name)(dim=2)
    with raises(ShapeError, f"{name}: dim -3 is out of range"):
        getattr(Tensor.ones(2, 3), name)(dim=-3)


def test_reduction_repeated_dim():
    with raises(ShapeError, "sum: dim (0, -2) repeats an axis"):
        Tensor.ones(2, 3).sum(dim=(0, -2))


def test_argmax_bad_dim():
    with raises(ShapeError, "argmax: dim 1 is out of range for a tensor with 1 dimension(s)"):
        Tensor([1.0, 2.0]).argmax(dim=1)


# ---- shape ops --------------------------------------------------------------------------------


def test_reshape_size_mismatch():
    with raises(ShapeError, "reshape: cannot reshape (2, 3) (6 elements) into (4,)"):
        Tensor.zeros(2, 3).reshape(4)
    with raises(ShapeError, "reshape: cannot reshape (2, 3) (6 elements) into (4, -1)"):
        Tensor.zeros(2, 3).reshape(4, -1)


def test_reshape_two_unknown_sizes():
    with raises(ShapeError, "reshape: (2, 3) -> (-1, -1): only one size can be -1"):
        Tensor.zeros(2, 3).reshape(-1, -1)


def test_permute_not_an_ordering():
    with raises(ShapeError, "permute: (0, 0) is not an ordering of the 2 axes of shape (2, 3)"):
        Tensor.zeros(2, 3).permute(0, 0)
    with raises(ShapeError, "permute: (0,) is not an ordering of the 2 axes"):
        Tensor.zeros(2, 3).permute(0)


def test_transpose_bad_dim():
    with raises(ShapeError, "transpose"):
        Tensor.zeros(2, 3).transpose(0, 2)


def test_expand_bad_shape():
    with raises(ShapeError, "expand: cannot expand shape (2, 3) to (2, 4): size 3 is not 1"):
        Tensor.zeros(2, 3).expand(2, 4)
    with raises(ShapeError, "expand: cannot expand shape (2, 3) to fewer dimensions (3,)"):
        Tensor.zeros(2, 3).expand(3)


def test_unsqueeze_out_of_range():
    with raises(ShapeError, "unsqueeze: dim 3 is out of range for shape (2, 3)"):
        Tensor.zeros(2, 3).unsqueeze(3)


def test_squeeze_bad_dim():
    with raises(ShapeError, "squeeze: dim 2 is out of range for a tensor with 2 dimension(s)"):
        Tensor.zeros(2, 1).squeeze(2)


def test_flatten_start_after_end():
    with raises(ShapeError, "flatten: start_dim 2 comes after end_dim 1 for shape (2, 3, 4)"):
        Tensor.zeros(2, 3, 4).flatten(2, 1)


def test_cat_errors():
    with raises(ValueError, "cat: needs at least one tensor"):
        Tensor.cat([])
    with raises(ShapeError, "cat: shapes (2, 3), (2, 4) differ outside dim 0"):
        Tensor.cat([Tensor.zeros(2, 3), Tensor.zeros(2, 4)])


def test_stack_errors():
    with raises(ValueError, "stack: needs at least one tensor"):
        Tensor.stack([])
    with raises(ShapeError, "stack: all shapes must be equal, got (2,), (3,)"):
        Tensor.stack([Tensor.zeros(2), Tensor.zeros(3)])


# ---- indexing ---------------------------------------------------------------------------------


def test_too_many_indices():
    with raises(IndexError, "getitem: too many indices (3) for a tensor of shape (2, 3)"):
        Tensor.zeros(2, 3)[0, 0, 0]


def test_index_out_of_range():
    with raises(IndexError, "getitem: index 5 is out of range for axis 1 of size 3"):
        Tensor.zeros(2, 3)[0, 5]


def test_negative_slice_step():
    with raises(IndexError, "getitem: slice step must be positive, got -1"):
        Tensor.zeros(4)[::-1]


def test_unsupported_index():
    with raises(IndexError, "getitem: unsupported index 1.5"):
        Tensor.zeros(4)[1.5]


def test_gather_errors():
    with raises(IndexError, "getitem: index tensor must be int64, got float64"):
        Tensor.zeros(3, 2)[Tensor([0.0, 1.0])]
    with raises(IndexError, "getitem: index 3 is out of range for axis 0 of size 3 (shape (3, 2))"):
        Tensor.zeros(3, 2)[Tensor([0, 3], dtype=tg.int64)]
    with raises(IndexError, "getitem: cannot gather rows from a 0-d tensor"):
        Tensor(1.0)[Tensor([0], dtype=tg.int64)]


# ---- autograd -----------------------------------------------------------------------------------


def test_backward_on_non_scalar_without_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with raises(RuntimeError, "backward: the output has shape (2,); backward() without a gradient"):
        y.backward()


def test_backward_without_graph():
    with raises(RuntimeError, "backward: this tensor does not require grad"):
        Tensor(1.0).backward()


def test_backward_gradient_of_wrong_shape():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with raises(ShapeError, "backward: gradient of shape (3,) does not match"):
        y.backward(Tensor([1.0, 1.0, 1.0]))


def test_item_of_many_elements():
    with raises(ValueError, "item: only a tensor with one element can be converted, this one has "
                            "shape (2,)"):
        Tensor([1.0, 2.0]).item()


def test_len_of_0d():
    with raises(TypeError, "len() of a 0-d tensor"):
        len(Tensor(1.0))


# ---- functional -------------------------------------------------------------------------------


def test_cross_entropy_errors():
    logits = Tensor.zeros(2, 3)
    with raises(TypeError, "cross_entropy: target must hold int64 class indices, got float64"):
        F.cross_entropy(logits, Tensor([0.0, 1.0]))
    with raises(ShapeError, "cross_entropy: logits (2, 3) and targets (3,) do not match"):
        F.cross_entropy(logits, Tensor([0, 1, 2], dtype=tg.int64))
    with raises(ValueError, "one_hot: target 3 is out of range for 3 classes"):
        F.cross_entropy(logits, Tensor([0, 3], dtype=tg.int64))


def test_mse_loss_shape_mismatch():
    with raises(ShapeError, "mse_loss: input (2,) and target (3,) must have the same shape"):
        F.mse_loss(Tensor.zeros(2), Tensor.zeros(3))


def test_bad_reduction():
    with raises(ValueError, "mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(Tensor.zeros(2), Tensor.zeros(2), reduction="avg")


def test_layer_norm_shape_mismatch():
    with raises(ShapeError, "layer_norm: normalized_shape (4,) does not match the end of input "
                            "shape (2, 3)"):
        F.layer_norm(Tensor.zeros(2, 3), 4)


def test_gelu_exact_is_not_provided():
    with raises(ValueError, "gelu: approximate='none' is not supported"):
        F.gelu(Tensor.zeros(2), approximate="none")


def test_strategies_without_hypothesis_say_how_to_install():
    # A fresh interpreter in which hypothesis cannot be imported.
    program = textwrap.dedent("""
        import sys

        class NoHypothesis:
            def find_spec(self, name, path=None, target=None):
                if name == "hypothesis" or name.startswith("hypothesis."):
                    raise ImportError("No module named 'hypothesis'")

        sys.meta_path.insert(0, NoHypothesis())
        from tinygrad_edu.testing import gradcheck   # works without hypothesis
        try:
            import tinygrad_edu.testing.strategies
        except ImportError as error:
            print(error)
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'pip install "tinygrad-edu[test]"' in result.stdout


def test_gradcheck_reports_the_worst_element():
    from tinygrad_edu.testing import GradcheckError, gradcheck

    class WrongSquare(tg.Function):
        """z = x², with a backward that is wrong only where x > 1."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x * 2.0 + grad * (x > 1.0) * x

    x = Tensor([[0.5, 1.5], [-1.0, 3.0]], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, x)
    message = str(info.value)
    assert "failed on 2 of 4 elements" in message
    assert "input 0" in message and "element (1, 1)" in message   # the error grows with x
    assert "analytic" in message and "numeric" in message
    assert isinstance(info.value, AssertionError)


def test_gradcheck_needs_an_input_that_requires_grad():
    from tinygrad_edu.testing import gradcheck

    with raises(ValueError, "gradcheck: no input is a Tensor with requires_grad=True"):
        gradcheck(lambda t: t * 2.0, Tensor([1.0]))
    with raises(TypeError, "gradcheck: fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, Tensor([1.0], requires_grad=True))
