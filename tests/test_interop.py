"""The bridge to PyTorch: tensors and layers carried across both ways give the same numbers.

Skipped as a whole without PyTorch (``pip install torch``); tests/test_interop_without_torch.py checks
the errors a student sees then. Every module test runs on both backends, sizes and seeds drawn by
hypothesis, outputs and gradients compared in float64 to 1e-12.
"""
from __future__ import annotations

import importlib.util

import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import interop, nn  # noqa: E402
from tinygrad_edu.nn import StateDictError  # noqa: E402

BACKENDS = ["python"] + (["numpy"] if importlib.util.find_spec("numpy") else [])
TOLERANCE = 1e-12

backends = st.sampled_from(BACKENDS)
seeds = st.integers(0, 2**16)


def max_abs_difference(ours: tg.Tensor, theirs) -> float:
    """max |ours − theirs|, measured relative to |theirs| where that is above 1 (a large gradient of an
    ill-conditioned LayerNorm carries its relative rounding error)."""
    assert tuple(ours.shape) == tuple(theirs.shape)
    if not ours.numel():
        return 0.0
    return difference(interop.to_torch(ours.detach()), theirs)


def difference(a, b) -> float:
    """max |a − b| / max(1, |b|) over two torch tensors."""
    b = b.detach()
    return ((a.detach() - b).abs() / b.abs().clamp(min=1.0)).max().item()


def inputs(shape, seed: int, backend: str):
    """The same input here (requiring grad) and in torch (a separate leaf requiring grad)."""
    with tg.use_backend(backend):
        x = tg.randn(*shape, seed=seed, requires_grad=True)
    return x, interop.to_torch(x)


def projection(shape, seed: int):
    """Fixed weights w for L = Σ w·out, the same on both sides."""
    w = tg.randn(*shape, seed=seed + 7)
    return w, interop.to_torch(w)


def assert_same_forward_and_backward(ours_module, torch_module, x, x_t, seed: int):
    """Outputs, ∂L/∂x and ∂L/∂weight agree to 1e-12 (weights matched through weight_pairs)."""
    ours_module.zero_grad()
    torch_module.zero_grad(set_to_none=True)
    with tg.use_backend(x.backend):     # where the model lives (attention makes its mask there)
        out = ours_module(x)
        w, w_t = projection(tuple(out.shape), seed)
        (out * w).sum().backward()
    out_t = torch_module(x_t)
    assert max_abs_difference(out, out_t) <= TOLERANCE
    (out_t * w_t).sum().backward()
    assert max_abs_difference(x.grad, x_t.grad) <= TOLERANCE
    ours = dict(ours_module.named_parameters())
    theirs = dict(torch_module.named_parameters())
    pairs = interop.weight_pairs(ours_module)
    assert sorted(p.torch_name for p in pairs) == sorted(theirs)
    for pair in pairs:
        grads = [ours[name].grad for name in pair.names]
        stacked = torch.cat([interop.to_torch(g) for g in grads]) if len(grads) > 1 else interop.to_torch(grads[0])
        assert difference(stacked, theirs[pair.torch_name].grad) <= TOLERANCE, pair


# ---- tensors --------------------------------------------------------------------------------------
values = {"float64": st.floats(-1e6, 1e6, allow_nan=False), "int64": st.integers(-2**40, 2**40),
          "bool": st.booleans()}


@st.composite
def flat_tensors(draw):
    """(dtype, shape, row-major values): shapes with a 0 in them too, which nested lists cannot hold."""
    dtype = draw(st.sampled_from(sorted(values)))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=3)))
    count = 1
    for side in shape:
        count *= side
    return dtype, shape, draw(st.lists(values[dtype], min_size=count, max_size=count))


@given(case=flat_tensors(), backend=backends, requires_grad=st.booleans())
def test_tensors_go_to_torch_and_back_unchanged(case, backend, requires_grad):
    dtype, shape, flat = case
    requires_grad = requires_grad and dtype == "float64"
    with tg.use_backend(backend):
        t = tg.tensor(flat, dtype=dtype).reshape(*shape).detach().requires_grad_(requires_grad)
    t_torch = interop.to_torch(t)
    assert tuple(t_torch.shape) == shape
    assert t_torch.dtype == {"float64": torch.float64, "int64": torch.int64, "bool": torch.bool}[dtype]
    assert t_torch.requires_grad == requires_grad and t_torch.is_leaf
    assert t_torch.reshape(-1).tolist() == flat
    back = interop.from_torch(t_torch, backend=backend)
    assert back.backend == backend and back.dtype == dtype and tuple(back.shape) == shape
    assert back.reshape(-1).tolist() == flat
    assert back.requires_grad == requires_grad and back.is_leaf


@given(backend=backends, seed=seeds)
def test_a_non_contiguous_view_goes_across_by_its_values(backend, seed):
    with tg.use_backend(backend):
        t = tg.randn(3, 4, seed=seed).T[1:]
    assert not t.is_contiguous()
    assert interop.to_torch(t).tolist() == t.tolist()


@pytest.mark.parametrize("backend", BACKENDS)
def test_copies_share_no_memory_and_no_graph(backend):
    with tg.use_backend(backend):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
    x_t = interop.to_torch(x)
    (x_t * 3).sum().backward()
    assert x.grad is None and x_t.grad.tolist() == [3.0, 3.0]
    with torch.no_grad():
        x_t[0] = 100.0
    assert x.tolist() == [1.0, 2.0]
    y_t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = interop.from_torch(y_t, backend=backend)
    with torch.no_grad():
        y_t[1] = -5.0
    assert y.tolist() == [1.0, 2.0]
    with tg.use_backend(backend):
        (y * 2).sum().backward()
    assert y_t.grad is None and y.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("torch_dtype, ours", [(torch.float32, "float64"), (torch.float16, "float64"),
                                                (torch.bfloat16, "float64"), (torch.int32, "int64"),
                                                (torch.uint8, "int64"), (torch.int8, "int64")])
def test_other_torch_dtypes_arrive_as_float64_or_int64_with_their_exact_values(torch_dtype, ours):
    t = (torch.arange(6).reshape(2, 3) * 1.25 - 1).to(torch_dtype) if torch_dtype.is_floating_point \
        else torch.arange(6, dtype=torch_dtype).reshape(2, 3)
    back = interop.from_torch(t)
    assert back.dtype == ours
    assert back.tolist() == t.to(torch.float64 if ours == "float64" else torch.int64).tolist()


def test_requires_grad_can_be_set_on_the_way_and_is_refused_for_integers():
    t = torch.ones(2)
    assert interop.from_torch(t, requires_grad=True).requires_grad
    assert not interop.from_torch(t.requires_grad_(), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        interop.from_torch(torch.arange(3), requires_grad=True)


def test_wrong_argument_types_are_named():
    with pytest.raises(TypeError, match="to_torch: expected a tinygrad_edu Tensor, got list"):
        interop.to_torch([1.0])
    with pytest.raises(TypeError, match="from_torch: expected a torch.Tensor, got Tensor"):
        interop.from_torch(tg.tensor([1.0]))
    with pytest.raises(TypeError, match="complex"):
        interop.from_torch(torch.zeros(2, dtype=torch.complex128))


# ---- layers: ours -> torch -> the same numbers -----------------------------------------------------
@given(backend=backends, seed=seeds, batch=st.integers(1, 3), d_in=st.integers(1, 5), d_out=st.integers(1, 5),
       bias=st.booleans())
def test_linear_both_ways(backend, seed, batch, d_in, d_out, bias):
    with tg.use_backend(backend):
        ours = nn.Linear(d_in, d_out, bias=bias, seed=seed)
    theirs = interop.to_torch_module(ours)
    assert isinstance(theirs, torch.nn.Linear) and (theirs.bias is None) == (not bias)
    x, x_t = inputs((batch, d_in), seed, backend)
    assert_same_forward_and_backward(ours, theirs, x, x_t, seed)
    torch.manual_seed(seed)
    fresh = torch.nn.Linear(d_in, d_out, bias=bias, dtype=torch.float64)
    with tg.use_backend(backend):
        back = interop.from_torch_module(fresh)
    x, x_t = inputs((batch, d_in), seed + 1, backend)
    assert_same_forward_and_backward(back, fresh, x, x_t, seed)


@given(backend=backends, seed=seeds, rows=st.integers(1, 4), width=st.integers(2, 6), eps=st.sampled_from([1e-5, 1e-3]))
def test_layer_norm_both_ways(backend, seed, rows, width, eps):
    with tg.use_backend(backend):
        ours = nn.LayerNorm(width, eps=eps)
        ours.load_state_dict({"weight": tg.randn(width, seed=seed), "bias": tg.randn(width, seed=seed + 1)})
    theirs = interop.to_torch_module(ours)
    assert isinstance(theirs, torch.nn.LayerNorm) and theirs.eps == eps
    x, x_t = inputs((rows, width), seed, backend)
    assert_same_forward_and_backward(ours, theirs, x, x_t, seed)
    with tg.use_backend(backend):
        back = interop.from_torch_module(theirs)
    assert back.eps == eps
    x, x_t = inputs((rows, width), seed + 1, backend)
    assert_same_forward_and_backward(back, theirs, x, x_t, seed)


@given(backend=backends, seed=seeds, vocab=st.integers(1, 6), dim=st.integers(1, 4),
       data=st.data())
def test_embedding_both_ways(backend, seed, vocab, dim, data):
    indices = data.draw(st.lists(st.lists(st.integers(0, vocab - 1), min_size=2, max_size=2), min_size=1, max_size=3))
    with tg.use_backend(backend):
        ours = nn.Embedding(vocab, dim, seed=seed)
    theirs = interop.to_torch_module(ours)
    assert isinstance(theirs, torch.nn.Embedding)
    with tg.use_backend(backend):
        out = ours(indices)
        w, w_t = projection(tuple(out.shape), seed)
        (out * w).sum().backward()
    out_t = theirs(torch.tensor(indices))
    assert max_abs_difference(out, out_t) == 0.0
    (out_t * w_t).sum().backward()
    assert max_abs_difference(ours.weight.grad, theirs.weight.grad) <= TOLERANCE
    with tg.use_backend(backend):
        back = interop.from_torch_module(theirs)
    assert back.weight.tolist() == theirs.weight.tolist()


@given(backend=backends, seed=seeds, d_model=st.integers(1, 5), d_hidden=st.integers(1, 6),
       activation=st.sampled_from(["relu", "gelu", "tanh"]), batch=st.integers(1, 3))
def test_mlp_block_both_ways(backend, seed, d_model, d_hidden, activation, batch):
    with tg.use_backend(backend):
        ours = nn.MLPBlock(d_model, d_hidden, activation=activation, seed=seed)
    theirs = interop.to_torch_module(ours)
    assert isinstance(theirs, interop.TorchMLPBlock)
    assert list(theirs.state_dict()) == list(ours.state_dict())     # the same names, nothing renamed
    x, x_t = inputs((batch, d_model), seed, backend)
    assert_same_forward_and_backward(ours, theirs, x, x_t, seed)
    torch.manual_seed(seed)
    fresh = interop.TorchMLPBlock(d_model, d_hidden, activation)
    with tg.use_backend(backend):
        back = interop.from_torch_module(fresh)
    x, x_t = inputs((batch, d_model), seed + 1, backend)
    assert_same_forward_and_backward(back, fresh, x, x_t, seed)


@st.composite
def block_sizes(draw):
    heads = draw(st.integers(1, 3))
    return heads, heads * draw(st.integers(1, 3)), draw(st.integers(1, 8))


@given(backend=backends, seed=seeds, sizes=block_sizes(), activation=st.sampled_from(["gelu", "relu"]),
       batch=st.sampled_from([None, 1, 2]), length=st.integers(1, 4))
def test_transformer_block_both_ways(backend, seed, sizes, activation, batch, length):
    n_heads, d_model, d_hidden = sizes
    with tg.use_backend(backend):
        ours = nn.TransformerBlock(d_model, n_heads, d_hidden, activation=activation, seed=seed)
    theirs = interop.to_torch_module(ours)
    assert isinstance(theirs, torch.nn.TransformerEncoderLayer)
    shape = (length, d_model) if batch is None else (batch, length, d_model)
    x, x_t = inputs(shape, seed, backend)
    assert_same_forward_and_backward(ours, theirs, x, x_t, seed)
    torch.manual_seed(seed)
    fresh = interop.TorchTransformerBlock(d_model, n_heads, d_hidden, activation)
    with tg.use_backend(backend):
        back = interop.from_torch_module(fresh)
    x, x_t = inputs(shape, seed + 1, backend)
    assert_same_forward_and_backward(back, fresh, x, x_t, seed)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", ["relu", "gelu_tanh"])
def test_a_stock_torch_encoder_layer_matches_the_block_when_called_with_a_causal_mask(backend, activation):
    torch.manual_seed(0)
    act = torch.nn.functional.relu if activation == "relu" else torch.nn.GELU(approximate="tanh")
    layer = torch.nn.TransformerEncoderLayer(6, 2, 10, dropout=0.1, activation=act, batch_first=True,
                                             norm_first=True, dtype=torch.float64).eval()
    with tg.use_backend(backend):
        ours = interop.from_torch_module(layer)
        x = tg.randn(2, 5, 6, seed=3)
        out = ours(x)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    # In eval mode without gradients PyTorch takes its fused fast path, which runs any GELU module as
    # the exact (erf) GELU: that path is compared for ReLU only.
    fused = torch.no_grad() if activation == "relu" else torch.enable_grad()
    with fused:
        theirs = layer(interop.to_torch(x), src_mask=mask, is_causal=True)
    assert max_abs_difference(out, theirs) <= TOLERANCE


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_model_of_supported_parts_converts_part_by_part(backend):
    with tg.use_backend(backend):
        ours = nn.Sequential(nn.Linear(3, 4, seed=1), nn.GELU(), nn.Residual(nn.Linear(4, 4, seed=2)),
                             nn.TransformerBlock(4, 2, 6, seed=3), nn.LayerNorm(4), nn.Tanh(), nn.Identity())
        x = tg.randn(2, 3, 3, seed=4, requires_grad=True)
    theirs = interop.to_torch_module(ours)
    assert "3.self_attn.in_proj_weight" in theirs.state_dict()
    assert_same_forward_and_backward(ours, theirs, x, interop.to_torch(x), 0)
    with tg.use_backend(backend):
        back = interop.from_torch_module(theirs)
    assert [type(m).__name__ for m in back] == [type(m).__name__ for m in ours]
    for name, value in ours.state_dict().items():
        assert back.state_dict()[name].tolist() == value.tolist()


# ---- state dicts ---------------------------------------------------------------------------------
def test_transformer_block_weights_are_renamed_and_stacked_as_torch_names_them():
    ours = nn.TransformerBlock(4, 2, 6, seed=0)
    state = interop.torch_state_dict(ours)
    reference = interop.TorchTransformerBlock(4, 2, 6).state_dict()
    assert sorted(state) == sorted(reference)
    assert all(state[k].shape == reference[k].shape for k in state)
    q, k, v = (ours.attn.query.weight.tolist(), ours.attn.key.weight.tolist(), ours.attn.value.weight.tolist())
    assert state["self_attn.in_proj_weight"].tolist() == q + k + v
    back = interop.state_dict_from_torch(state, ours)
    assert list(back) == list(ours.state_dict())
    assert all(back[name].tolist() == value.tolist() for name, value in ours.state_dict().items())


def test_load_into_torch_and_back_copies_exactly():
    ours = nn.MLPBlock(3, 5, seed=2)
    torch_block = interop.TorchMLPBlock(3, 5)
    interop.load_into_torch(torch_block, ours)
    fresh = nn.MLPBlock(3, 5, seed=9)
    interop.load_from_torch(fresh, torch_block)
    assert all(fresh.state_dict()[k].tolist() == v.tolist() for k, v in ours.state_dict().items())


def test_load_into_a_float32_torch_module_keeps_its_dtype():
    linear = torch.nn.Linear(2, 2)           # float32
    interop.load_into_torch(linear, nn.Linear(2, 2, seed=0))
    assert linear.weight.dtype == torch.float32


def test_mismatched_weights_name_the_keys():
    with pytest.raises(StateDictError, match="missing keys: up.weight.*unexpected keys: weight"):
        interop.state_dict_from_torch(torch.nn.Linear(3, 5, dtype=torch.float64), nn.MLPBlock(3, 5))
    with pytest.raises(StateDictError, match="shape"):
        interop.load_from_torch(nn.Linear(3, 5), torch.nn.Linear(3, 4, dtype=torch.float64))


def test_modules_without_an_equivalent_are_named_with_what_is_supported():
    with pytest.raises(TypeError, match="SelfAttention has no torch equivalent here .supported: Linear"):
        interop.to_torch_module(nn.SelfAttention(4, 2))
    with pytest.raises(TypeError, match="Conv1d has no equivalent here"):
        interop.from_torch_module(torch.nn.Conv1d(1, 1, 1))
    with pytest.raises(ValueError, match="exact .erf. GELU"):
        interop.from_torch_module(torch.nn.GELU())
    with pytest.raises(ValueError, match="norm_first=False"):
        interop.from_torch_module(torch.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True, dropout=0.0))
    block = nn.MLPBlock(2, 3)
    block.neuron_mask = tg.tensor([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="neuron_mask"):
        interop.to_torch_module(block)


def test_the_readme_example_runs_as_printed(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```py\n(.*?)```", readme, flags=re.S)     # the examples that need PyTorch
    assert blocks, "README.md shows the bridge to PyTorch"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "compare_with_torch: all 3 checks agree with PyTorch" in out
    assert float(out.splitlines()[0]) <= 1e-12
    assert "∂L/∂input 0 (x)" in out and "∂L/∂input 1 (w)" in out


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_the_torch_block_agrees_on_pytorchs_fused_path_too(activation):
    """In eval mode without gradients PyTorch may run its fused encoder kernel: still the same numbers."""
    block = nn.TransformerBlock(8, 2, 16, activation=activation, seed=0)
    torch_block = interop.to_torch_module(block).eval()
    x = tg.randn(2, 5, 8, seed=1)
    with torch.no_grad():
        theirs = torch_block(interop.to_torch(x))
    assert max_abs_difference(block(x), theirs) <= TOLERANCE
