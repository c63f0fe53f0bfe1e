"""nn: Module bookkeeping, state dicts, layers' values and gradients (against central differences)."""
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing.strategies import tensors

FAST = settings(max_examples=15, deadline=None)


def with_parameters(module, values: dict):
    """Call-time swap: run ``module`` with the tensors in ``values`` in place of its parameters.

    gradcheck perturbs its inputs, so the parameters must be inputs: this puts them back into the module
    for the duration of one call.
    """
    owners = {}
    for mod_name, mod in module.named_modules():
        for p_name in mod._parameters:
            owners[f"{mod_name}.{p_name}" if mod_name else p_name] = (mod, p_name)

    def call(x, *tensors):
        saved = {}
        try:
            for name, t in zip(values, tensors):
                mod, p_name = owners[name]
                saved[name] = mod._parameters[p_name]
                mod._parameters[p_name] = t
            return module(x)
        finally:
            for name, p in saved.items():
                mod, p_name = owners[name]
                mod._parameters[p_name] = p
    return call


def check_module_gradients(module, x):
    params = dict(module.named_parameters())
    leaves = [tg.Tensor(p.tolist(), requires_grad=True) for p in params.values()]
    fn = with_parameters(module, params)
    assert gradcheck(fn, x, *leaves)


# ---------------------------------------------------------------------------------------- Module
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.MLPBlock(3, 4, seed=0)
        self.head = nn.Linear(3, 2, seed=1)
        self.scale = 2.0  # a plain attribute: not a parameter

    def forward(self, x):
        return self.head(self.block(x)) * self.scale


def test_named_parameters_are_dotted_and_in_order():
    model = Two()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["block.up.weight", "block.up.bias", "block.down.weight", "block.down.bias",
                     "head.weight", "head.bias"]
    assert [p.name for p in model.parameters()] == names
    assert model.num_parameters() == 4 * 3 + 4 + 3 * 4 + 3 + 2 * 3 + 2
    assert [type(c).__name__ for c in model.children()] == ["MLPBlock", "Linear"]


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2, seed=0)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2


def test_reassigning_an_attribute_replaces_its_registration():
    m = nn.Linear(2, 2, seed=0)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    m.weight = nn.Parameter(tg.zeros(2, 2))      # another Parameter takes the place
    assert [n for n, _ in m.named_parameters()] == ["weight"] and m.weight.tolist() == [[0.0, 0.0]] * 2
    m.bias = nn.Parameter(tg.ones(2))            # None kept the place, as in PyTorch
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


def test_train_eval_reach_every_descendant():
    model = Two().eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_parameter():
    model = Two()
    model(tg.ones(1, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_prints_the_module_tree():
    text = repr(Two())
    assert "(block): MLPBlock(" in text
    assert "(up): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "(head): Linear(in_features=3, out_features=2, bias=True)" in text


def test_state_dict_round_trip_restores_outputs(backend):
    source, target = Two(), Two()
    target.load_state_dict({k: v * 0 for k, v in source.state_dict().items()})
    x = tg.randn(2, 3, seed=5)
    assert target(x).tolist() != source(x).tolist()
    target.load_state_dict(source.state_dict())
    assert target(x).tolist() == source(x).tolist()


def test_load_state_dict_converts_integer_values():
    lin = nn.Linear(2, 1, seed=0)
    lin.load_state_dict({"weight": tg.tensor([[1, 2]]), "bias": tg.tensor([3])})
    assert lin.weight.dtype == "float64" and lin(tg.ones(1, 2)).tolist() == [[6.0]]


def test_load_state_dict_names_missing_and_unexpected_keys():
    model = Two()
    sd = model.state_dict()
    del sd["head.bias"]
    sd["head.extra"] = tg.zeros(1)
    with pytest.raises(nn.StateDictError, match=r"missing keys: head\.bias.*unexpected keys: head\.extra"):
        model.load_state_dict(sd)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert missing == ["head.bias"] and unexpected == ["head.extra"]


def test_load_state_dict_shape_mismatch_changes_nothing():
    model = Two()
    before = {k: v.tolist() for k, v in model.state_dict().items()}
    sd = {k: v * 0 for k, v in model.state_dict().items()}
    sd["head.weight"] = tg.zeros(3, 2)
    with pytest.raises(nn.StateDictError, match=r"head\.weight.*\(3, 2\).*\(2, 3\)"):
        model.load_state_dict(sd)
    assert {k: v.tolist() for k, v in model.state_dict().items()} == before


def test_setting_attributes_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super"):
        Broken()


# ---------------------------------------------------------------------------------------- layers
def test_linear_init_is_pytorch_uniform_and_seeded():
    a, b, c = nn.Linear(9, 5, seed=3), nn.Linear(9, 5, seed=3), nn.Linear(9, 5, seed=4)
    bound = 1 / math.sqrt(9)
    values = [v for row in a.weight.tolist() for v in row] + a.bias.tolist()
    assert all(-bound <= v <= bound for v in values)
    assert a.weight.tolist() == b.weight.tolist() and a.weight.tolist() != c.weight.tolist()


def test_linear_rejects_wrong_input_width():
    with pytest.raises(tg.ShapeError, match=r"Linear\(4, 2\).*\(3, 5\)"):
        nn.Linear(4, 2, seed=0)(tg.zeros(3, 5))


def test_mlp_block_matches_the_formula(backend):
    block = nn.MLPBlock(3, 2, seed=0)
    x = [0.3, -1.2, 0.8]
    W1, b1 = block.up.weight.tolist(), block.up.bias.tolist()
    W2, b2 = block.down.weight.tolist(), block.down.bias.tolist()
    h = [max(0.0, sum(W1[j][i] * x[i] for i in range(3)) + b1[j]) for j in range(2)]
    expected = [x[i] + sum(W2[i][j] * h[j] for j in range(2)) + b2[i] for i in range(3)]
    got = block(tg.tensor(x)).tolist()
    assert got == pytest.approx(expected, abs=1e-12)
    block.neuron_mask = tg.tensor([0.0, 0.0])
    assert block(tg.tensor(x)).tolist() == pytest.approx([x[i] + b2[i] for i in range(3)], abs=1e-12)


@FAST
@given(x=tensors(st.tuples(st.integers(1, 3), st.just(3)), requires_grad=True))
def test_linear_gradients(x):
    check_module_gradients(nn.Linear(3, 2, seed=0), x)


@FAST
@given(x=tensors(st.tuples(st.integers(1, 3), st.just(4)), requires_grad=True, unique=True, min_gap=0.1))
def test_layer_norm_gradients(x):
    ln = nn.LayerNorm(4)
    ln.weight = nn.Parameter([0.5, -1.0, 2.0, 1.5])
    ln.bias = nn.Parameter([0.1, 0.2, -0.3, 0.0])
    check_module_gradients(ln, x)


@FAST
@given(x=tensors(st.tuples(st.integers(1, 3), st.just(3)), requires_grad=True))
def test_mlp_block_gradients_away_from_relu_kinks(x):
    block = nn.MLPBlock(3, 4, seed=1)
    with tg.no_grad():
        pre = block.up(x).tolist()
    assume(all(abs(v) > 1e-3 for row in pre for v in row))
    check_module_gradients(block, x)


@FAST
@given(x=tensors((2, 3, 4), requires_grad=True))
def test_self_attention_gradients(x):
    check_module_gradients(nn.SelfAttention(4, n_heads=2, seed=0), x)


@settings(max_examples=5, deadline=None)
@given(x=tensors((3, 4), requires_grad=True))
def test_transformer_block_gradients(x):
    check_module_gradients(nn.TransformerBlock(4, n_heads=2, d_hidden=6, seed=0), x)


def test_embedding_gradient_adds_into_used_rows(backend):
    emb = nn.Embedding(4, 2, seed=0)
    out = emb([[1, 3], [1, 0]])
    assert out.shape == (2, 2, 2)
    assert out.tolist()[0][0] == emb.weight.tolist()[1]
    out.sum().backward()
    assert emb.weight.grad.tolist() == [[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(IndexError, match=r"Embedding\(4, 2\): index 4"):
        emb([4])


def test_attention_is_causal(backend):
    attn = nn.SelfAttention(4, n_heads=2, seed=0)
    x = tg.randn(5, 4, seed=1)
    changed = tg.cat([x[:3], tg.randn(2, 4, seed=2)], dim=0)
    a, b = attn(x).tolist(), attn(changed).tolist()
    flat = lambda rows: [v for row in rows for v in row]  # noqa: E731
    assert flat(a[:3]) == pytest.approx(flat(b[:3]), abs=1e-12)
    assert flat(a[3:]) != pytest.approx(flat(b[3:]), abs=1e-6)
    weights = attn.last_attention.tolist()[0]
    for head in weights:
        for i, row in enumerate(head):
            assert sum(row) == pytest.approx(1.0)
            assert all(w == 0.0 for w in row[i + 1:])


def test_sequential_and_residual():
    lin = nn.Linear(2, 2, seed=0)
    x = tg.tensor([[1.0, -2.0]])
    assert nn.Sequential(lin, nn.ReLU())(x).tolist() == lin(x).relu().tolist()
    assert nn.Residual(lin)(x).tolist() == (x + lin(x)).tolist()


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="'swish'"):
        nn.MLPBlock(2, 2, activation="swish")
