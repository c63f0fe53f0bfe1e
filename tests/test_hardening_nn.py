"""Layers and modules refuse what PyTorch refuses, name the argument at fault, and keep tensors on the
backend they were made on."""
import importlib.util
import re

import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn

HAS_NUMPY = importlib.util.find_spec("numpy") is not None
needs_numpy = pytest.mark.skipif(not HAS_NUMPY, reason="the NumPy backend needs numpy")


def raises(error, text):
    return pytest.raises(error, match=re.escape(text))


# ---- a parameter's place ------------------------------------------------------------------------------
def test_a_plain_tensor_cannot_take_a_parameters_place_as_in_pytorch():
    """``m.weight = m.weight * 2`` used to drop weight from parameters(), state_dict() and checkpoints."""
    m = nn.Linear(2, 2, seed=0)
    before = m.weight
    with raises(TypeError, "Linear: cannot assign 'Tensor' as parameter 'weight' (Parameter or None expected"):
        m.weight = m.weight * 2
    with tg.no_grad(), raises(TypeError, "cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = m.weight * 2
    assert m.weight is before
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert list(m.state_dict()) == ["weight", "bias"]


def test_a_child_modules_place_takes_only_a_module_or_none():
    seq = nn.Sequential(nn.Linear(2, 2))
    with raises(TypeError, "cannot assign 'int' as child module '0' (Module or None expected)"):
        setattr(seq, "0", 5)
    assert len(list(seq.parameters())) == 2


@pytest.mark.parametrize("name, error, message", [
    (1, TypeError, "register_parameter: the parameter name must be a string, got int 1"),
    ("a.b", KeyError, "the parameter name must be non-empty and contain no '.', got 'a.b'"),
    ("", KeyError, "the parameter name must be non-empty and contain no '.', got ''"),
])
def test_registered_names_are_checked_as_in_pytorch(name, error, message):
    with raises(error, message):
        nn.Linear(2, 2).register_parameter(name, nn.Parameter([1.0]))
    with pytest.raises(error):
        nn.Linear(2, 2).add_module(name, nn.Linear(1, 1))


def test_train_mode_must_be_a_bool_and_load_state_dict_a_mapping():
    with raises(ValueError, "Linear.train: mode must be True or False, got 'no'"):
        nn.Linear(2, 2).train("no")
    for bad in (None, [1]):
        with raises(TypeError, "Linear.load_state_dict: expected a mapping of names to tensors"):
            nn.Linear(2, 2).load_state_dict(bad)


# ---- constructors: each bad value named -------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Linear(0, 3), ValueError, "Linear: in_features must be a positive integer, got 0"),
    (lambda: nn.Linear(3, -1), ValueError, "Linear: out_features must be a positive integer, got -1"),
    (lambda: nn.Linear(2.5, 3), TypeError, "Linear: in_features must be a positive integer, got 2.5"),
    (lambda: nn.Linear("a", 3), TypeError, "Linear: in_features must be a positive integer, got 'a'"),
    (lambda: nn.Linear(None, 3), TypeError, "Linear: in_features must be a positive integer, got None"),
    (lambda: nn.Linear(True, 3), TypeError, "Linear: in_features must be a positive integer, got True"),
    (lambda: nn.LayerNorm(0), ValueError, "LayerNorm: normalized_shape must be a positive integer, got 0"),
    (lambda: nn.LayerNorm("a"), TypeError, "LayerNorm: normalized_shape must be a positive integer, got 'a'"),
    (lambda: nn.LayerNorm(4, eps=-1.0), ValueError, "LayerNorm: eps must be a finite number >= 0, got -1.0"),
    (lambda: nn.LayerNorm(4, eps=float("nan")), ValueError, "LayerNorm: eps must be a finite number >= 0, got nan"),
    (lambda: nn.LayerNorm(4, elementwise_affine="no"), TypeError,
     "LayerNorm: elementwise_affine must be True or False, got 'no'"),
    (lambda: nn.Embedding(0, 3), ValueError, "Embedding: num_embeddings must be a positive integer, got 0"),
    (lambda: nn.Embedding(3, 2.5), TypeError, "Embedding: embedding_dim must be a positive integer, got 2.5"),
    (lambda: nn.MLPBlock(0, 4), ValueError, "MLPBlock: d_model must be a positive integer, got 0"),
    (lambda: nn.MLPBlock(4, 0), ValueError, "MLPBlock: d_hidden must be a positive integer, got 0"),
    (lambda: nn.SelfAttention(4, 0), ValueError, "SelfAttention: n_heads must be a positive integer, got 0"),
    (lambda: nn.SelfAttention(4, -2), ValueError, "SelfAttention: n_heads must be a positive integer, got -2"),
    (lambda: nn.SelfAttention(4, "2"), TypeError, "SelfAttention: n_heads must be a positive integer, got '2'"),
    (lambda: nn.SelfAttention(4, None), TypeError, "SelfAttention: n_heads must be a positive integer, got None"),
    (lambda: nn.SelfAttention(4, 3), ValueError, "SelfAttention: d_model=4 is not divisible by n_heads=3"),
    (lambda: nn.SelfAttention(0, 1), ValueError, "SelfAttention: d_model must be a positive integer, got 0"),
    (lambda: nn.SelfAttention(4, 2, causal="no"), TypeError, "SelfAttention: causal must be True or False"),
    (lambda: nn.TransformerBlock(4, n_heads=0), ValueError, "SelfAttention: n_heads must be a positive integer"),
    (lambda: nn.TransformerBlock(4, d_hidden=0), ValueError, "TransformerBlock: d_hidden must be a positive integer"),
    (lambda: nn.TransformerBlock(0), ValueError, "TransformerBlock: d_model must be a positive integer, got 0"),
    (lambda: nn.Residual("x"), TypeError, "Residual: module must be a Module, got str"),
    (lambda: nn.MSELoss(reduction="x"), ValueError, "MSELoss: reduction must be 'mean', 'sum' or 'none', got 'x'"),
    (lambda: nn.CrossEntropyLoss(reduction=None), ValueError, "CrossEntropyLoss: reduction must be"),
    (lambda: nn.init.uniform((2,), 1.0, 0.0), ValueError, "init.uniform: need low <= high, got low=1 > high=0"),
    (lambda: nn.init.uniform((2,), "a"), TypeError, "init.uniform: low must be a finite number, got 'a'"),
    (lambda: nn.init.normal((2,), std=-1.0), ValueError, "init.normal: std must be a finite number >= 0, got -1.0"),
    (lambda: nn.init.normal((2,), std=float("nan")), ValueError, "init.normal: std must be a finite number >= 0"),
    (lambda: nn.init.normal("ab"), TypeError, "init.normal: shape must be a tuple of sizes such as (3, 4)"),
    (lambda: nn.init.kaiming_uniform((2, 2), 0), ValueError, "init.kaiming_uniform: fan_in must be a positive integer"),
    (lambda: nn.init.kaiming_uniform((2, 2), -1), ValueError, "init.kaiming_uniform: fan_in must be a positive"),
    (lambda: nn.init.xavier_uniform((2, 2), 0, 0), ValueError, "init.xavier_uniform: fan_in must be a positive"),
    (lambda: F.dropout(tg.ones(2), 2), ValueError, "dropout: p must be a number in [0, 1], got 2.0"),
    (lambda: F.dropout(tg.ones(2), -0.5), ValueError, "dropout: p must be a number in [0, 1], got -0.5"),
    (lambda: F.dropout(tg.ones(2), float("nan")), ValueError, "dropout: p must be a number in [0, 1], got nan"),
    (lambda: F.dropout(tg.ones(2), "a"), TypeError, "dropout: p must be a number in [0, 1], got 'a'"),
])
def test_bad_layer_arguments_name_the_argument_and_what_is_allowed(make, error, message):
    with raises(error, message):
        make()


def test_good_edge_values_are_still_accepted():
    assert nn.SelfAttention(4, 4).head_dim == 1
    assert nn.SelfAttention(4, 2.0).n_heads == 2          # a whole float is a whole number
    assert nn.LayerNorm((3,), eps=0.0).eps == 0.0
    assert nn.init.uniform(3, 0.5, 0.5).tolist() == [0.5, 0.5, 0.5]
    assert nn.init.zeros(2).shape == (2,)
    assert F.dropout(tg.ones(2), 0.0) is not None


# ---- layer inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("indices, error, message", [
    ([1.5], TypeError, "Embedding(5, 3): indices must be integers (an int64 tensor or lists of ints), got float 1.5"),
    ([0.0, 1.0], TypeError, "got float 0.0"),
    ([True], TypeError, "got bool True"),
    (1.7, TypeError, "got float 1.7"),
    (None, TypeError, "got NoneType None"),
    (["a"], TypeError, "got str 'a'"),
    ([[1, 2], [3]], ValueError, "Embedding(5, 3): ragged index list"),
    ([5], IndexError, "Embedding(5, 3): index 5 out of range: indices must be in 0..4"),
    ([-1], IndexError, "index -1 out of range"),
])
def test_embedding_indices_must_be_whole_numbers_in_range(indices, error, message):
    with raises(error, message):
        nn.Embedding(5, 3, seed=0)(indices)


def test_embedding_refuses_float_and_bool_index_tensors_as_pytorch_does(backend):
    emb = nn.Embedding(5, 3, seed=0)
    with raises(TypeError, "Embedding(5, 3): indices must be integers (an int64 tensor or lists of ints), "
                           "got a float64 tensor"):
        emb(tg.tensor([1.0, 2.0]))
    with raises(TypeError, "got a bool tensor"):
        emb(tg.tensor([True, False]))
    assert emb(tg.tensor([[1, 2]])).shape == (1, 2, 3)
    assert emb(3).shape == (3,)


@pytest.mark.parametrize("layer, x, error, message", [
    (lambda: nn.Linear(2, 3), [1.0, 2.0], TypeError, "Linear(2, 3): the input must be a Tensor, got list"),
    (lambda: nn.Linear(2, 3), tg.tensor(1.0), tg.ShapeError,
     "Linear(2, 3): the input needs at least 1 dimension(s), got shape ()"),
    (lambda: nn.LayerNorm(4), [1.0] * 4, TypeError, "LayerNorm(4): the input must be a Tensor, got list"),
    (lambda: nn.SelfAttention(4, 2), [[1.0] * 4], TypeError, "SelfAttention(d_model=4): the input must be a Tensor"),
])
def test_layer_inputs_that_are_not_tensors_are_named(layer, x, error, message):
    with raises(error, message):
        layer()(x)


# ---- tensors made on one backend, used on another ------------------------------------------------------
@needs_numpy
def test_helpers_build_on_the_backend_of_their_inputs():
    with tg.use_backend("numpy"):
        logits = tg.randn(3, 4, seed=0, requires_grad=True)
        target = tg.tensor([0, 1, 2])
        x = tg.randn(3, 4, seed=1)
    assert tg.get_backend() == "python"
    loss = F.cross_entropy(logits, target)
    assert loss.backend == "numpy"
    loss.backward()
    assert logits.grad.backend == "numpy"
    assert F.cross_entropy(logits, [0, 1, 2]).backend == "numpy"
    assert F.one_hot(target, 4).backend == "numpy"
    assert F.dropout(x, 0.5, generator=tg.Generator(0)).backend == "numpy"
    assert F.mse_loss(x, [[0.0] * 4] * 3).backend == "numpy"
    # ... and the other way round
    with tg.use_backend("numpy"):
        here = tg.randn(2, 3, seed=0)
        assert F.mse_loss(here, tg.randn(2, 3, seed=0)).item() == 0.0
        y = tg.randn(2, 3, seed=2)
    assert F.cross_entropy(tg.randn(2, 3, seed=0), [0, 1]).backend == "python"
    assert F.mse_loss(y, [[0.0] * 3] * 2).backend == "numpy"


@needs_numpy
def test_self_attention_made_under_numpy_runs_outside_the_block():
    with tg.use_backend("numpy"):
        attention = nn.SelfAttention(4, 2, seed=0)
        x = tg.randn(3, 4, seed=1)
    y = attention(x)                      # the causal mask is made here, with python current
    assert y.backend == "numpy"
    twin = nn.SelfAttention(4, 2, seed=0)  # the same weights on python
    expected = twin(tg.tensor(x.tolist())).reshape(-1).tolist()
    assert y.reshape(-1).tolist() == pytest.approx(expected, rel=1e-12)
    with tg.use_backend("numpy"):         # and the python twin, called with numpy current
        assert twin(twin_input(x)).backend == "python"


def twin_input(x):
    with tg.use_backend("python"):
        return tg.tensor(x.tolist())


@needs_numpy
@pytest.mark.parametrize("home, other", [("numpy", "python"), ("python", "numpy")])
def test_load_state_dict_keeps_the_parameters_on_their_own_backend(home, other):
    with tg.use_backend(home):
        model = nn.Linear(2, 2, seed=0)
    with tg.use_backend(other):
        state = nn.Linear(2, 2, seed=1).state_dict()
        model.load_state_dict(state)              # with the other backend current, too
    assert {p.backend for p in model.parameters()} == {home}
    assert model.weight.tolist() == state["weight"].tolist()
    with tg.use_backend(home):
        assert model(tg.ones(1, 2)).backend == home


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Linear(2, 3, generator=5), TypeError, "generator must be a tinygrad_edu.Generator (tg.Generator(seed)), "
                                                      "got int; for a number, pass seed= instead"),
    (lambda: nn.Linear(2, 3, seed="x"), TypeError, "seed must be an integer, got str 'x'"),
    (lambda: nn.MLPBlock(2, 3, seed=1.5), TypeError, "seed must be an integer, got float 1.5"),
    (lambda: nn.Embedding(2, 3, generator="g"), TypeError, "generator must be a tinygrad_edu.Generator"),
    (lambda: nn.Linear(2, 3, bias="no"), TypeError, "Linear: bias must be True or False, got 'no'"),
    (lambda: nn.SelfAttention(4, 2, bias="no"), TypeError, "Linear: bias must be True or False, got 'no'"),
])
def test_seeds_generators_and_flags_are_checked(make, error, message):
    with raises(error, message):
        make()


def test_a_seed_or_a_generator_still_gives_the_same_layer():
    a = nn.Linear(2, 3, seed=7)
    b = nn.Linear(2, 3, generator=tg.Generator(7))
    assert a.weight.tolist() == b.weight.tolist() and a.bias.tolist() == b.bias.tolist()
