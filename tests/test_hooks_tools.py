"""run_with_cache, ablate and patch (tinygrad_edu.hooks): what they cache and change, checked against the
same quantities computed without hooks (the block's own methods and its ``neuron_mask``)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.hooks import ablate, module_at, patch, run_with_cache
from tinygrad_edu.testing import gradcheck


def hand_built():
    from tinygrad_edu.models import michael_jordan as mj

    example = mj.hand_built_example()
    return example["block"], example["directions"]


def no_hooks_left(model) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ------------------------------------------------------------------------------ run_with_cache
def test_the_cache_holds_every_submodule_output_under_its_path(backend):
    block = nn.MLPBlock(4, 6, seed=1)
    x = tg.randn(3, 4, seed=2)
    output, cache = run_with_cache(block, x)
    assert list(cache) == ["up", "act", "down"], "named_modules order; the model itself is the output"
    assert cache["up"].tolist() == block.up(x).tolist()
    assert cache["act"].tolist() == block.hidden(x).tolist()
    assert cache["down"].tolist() == block.delta(x).tolist()
    assert output.tolist() == block(x).tolist()
    assert no_hooks_left(block)


def test_the_hand_built_blocks_act_is_its_and_gates():
    block, dirs = hand_built()
    _, cache = run_with_cache(block, dirs.embed(["Michael", "Jordan"]), names=["act"])
    assert list(cache) == ["act"] and cache["act"].tolist() == [1.0, 0.0]


def test_names_may_be_a_list_a_single_path_or_a_filter():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    x = tg.randn(2, 2, seed=3)
    assert list(run_with_cache(model, x, names=["2", "0"])[1]) == ["2", "0"]
    assert list(run_with_cache(model, x, names="1")[1]) == ["1"]
    assert list(run_with_cache(model, x, names=lambda path: path != "1")[1]) == ["0", "2"]


def test_an_unknown_path_is_a_key_error_listing_the_paths():
    block = nn.MLPBlock(2, 2, seed=0)
    with pytest.raises(KeyError, match=r"MLPBlock has no module 'block\.act'; its modules are: 'up', 'act', 'down'"):
        run_with_cache(block, tg.zeros(2), names=["block.act"])


def test_a_module_that_never_runs_is_an_error_that_says_why():
    block = nn.TransformerBlock(4, 1, 8, seed=0)
    with pytest.raises(RuntimeError, match="mlp never ran .* mlp.delta"):
        run_with_cache(block, tg.randn(3, 4, seed=1), names=["mlp", "mlp.act"])
    assert no_hooks_left(block)
    _, cache = run_with_cache(block, tg.randn(3, 4, seed=1))
    assert "mlp" not in cache and "mlp.act" in cache, "with no names asked for, what ran is cached"


def test_cached_tensors_are_cut_from_the_graph_and_the_output_is_not():
    block = nn.MLPBlock(2, 3, seed=0)
    output, cache = run_with_cache(block, tg.randn(2, seed=1))
    assert all(t.grad_fn is None and not t.requires_grad for t in cache.values())
    assert output.requires_grad
    _, kept = run_with_cache(block, tg.randn(2, seed=1), detach=False)
    assert kept["act"].requires_grad


def test_hooks_are_removed_when_the_model_raises():
    block = nn.MLPBlock(3, 2, seed=0)
    with pytest.raises(tg.ShapeError):
        run_with_cache(block, tg.zeros(5))
    assert no_hooks_left(block)


def test_module_at_accepts_a_path_or_a_module():
    block = nn.MLPBlock(2, 2, seed=0)
    assert module_at(block, "act") is block.act and module_at(block, block.up) is block.up
    assert module_at(block, "") is block


# ------------------------------------------------------------------------------ ablation
def test_zero_ablating_the_and_neuron_removes_basketball_exactly():
    block, dirs = hand_built()
    x = dirs.embed(["Michael", "Jordan"])
    assert dirs.project(block(x))["basketball"] == 1.0
    with ablate(block, "act", [0]):
        assert dirs.project(block(x))["basketball"] == 0.0
    assert dirs.project(block(x))["basketball"] == 1.0, "the handle removed the hook"


def test_mean_ablation_holds_a_neuron_at_its_mean_over_a_batch():
    block, dirs = hand_built()
    from tinygrad_edu.models.michael_jordan import HAND_BUILT_CASES

    batch = tg.stack([dirs.embed(words) for _, words in HAND_BUILT_CASES])
    x = dirs.embed(["Michael", "Jordan"])
    with ablate(block, "act", [0], mean_over=batch):
        _, cache = run_with_cache(block, x, names=["act"])
    values = block.hidden(batch).tolist()
    assert cache["act"].tolist() == [sum(row[0] for row in values) / len(values), 0.0]


@given(st.integers(1, 6), st.integers(0, 2 ** 16), st.data())
def test_zero_ablation_equals_the_blocks_own_neuron_mask(d_hidden, seed, data):
    """Two independent ways to switch neurons off must agree exactly on every backend."""
    chosen = data.draw(st.lists(st.integers(0, d_hidden - 1), max_size=d_hidden, unique=True))
    block = nn.MLPBlock(3, d_hidden, seed=seed)
    x = tg.randn(4, 3, seed=seed + 1)
    with ablate(block, "act", chosen):
        hooked = block(x).tolist()
    block.neuron_mask = tg.tensor([0.0 if j in chosen else 1.0 for j in range(d_hidden)])
    masked = block(x).tolist()
    block.neuron_mask = None
    assert hooked == masked


def test_ablating_every_neuron_leaves_the_residual_and_the_bias():
    block = nn.MLPBlock(3, 4, seed=5)
    x = tg.randn(2, 3, seed=6)
    with ablate(block, "act"):
        out = block(x).tolist()
    bias = block.down.bias.tolist()
    assert out == [[xi + b for xi, b in zip(row, bias)] for row in x.tolist()]


def test_the_chosen_neurons_may_be_any_iterable_and_stay_chosen_for_every_call():
    block = nn.MLPBlock(2, 3, seed=0)
    x = tg.randn(2, seed=1)
    block.neuron_mask = tg.tensor([0.0, 1.0, 0.0])
    expected = block(x).tolist()
    block.neuron_mask = None
    with ablate(block, "act", (j for j in (0, 2))):
        assert block(x).tolist() == expected
        assert block(x).tolist() == expected, "a generator is read once, not used up by the first call"


def test_ablation_refuses_a_neuron_that_does_not_exist():
    block = nn.MLPBlock(2, 3, seed=0)
    with ablate(block, "act", [3]):
        with pytest.raises(IndexError, match=r"ablate\(act\): neuron 3 out of range for 3 neurons"):
            block(tg.zeros(2))
    with pytest.raises(tg.ShapeError, match="mean_over must be a batch"):
        ablate(block, "act", [0], mean_over=tg.zeros(2))


def test_gradients_through_an_ablated_block_match_central_differences(backend):
    block = nn.MLPBlock(3, 4, activation="tanh", seed=7)
    x = tg.randn(2, 3, seed=8, requires_grad=True)
    with ablate(block, "act", [1, 2]):
        assert gradcheck(lambda x: block(x), x)
        block(x).sum().backward()
    assert block.up.weight.grad.tolist()[1] == [0.0, 0.0, 0.0], "an ablated neuron's question gets no gradient"


# ------------------------------------------------------------------------------ patching
def test_patching_jordans_neurons_into_phelps_makes_it_basketball():
    block, dirs = hand_built()
    _, cache = run_with_cache(block, dirs.embed(["Michael", "Jordan"]), names=["act"])
    phelps = dirs.embed(["Michael", "Phelps"])
    with patch(block, "act", cache["act"]):
        out = dirs.project(block(phelps))
    assert (out["basketball"], out["swimming"]) == (1.0, 0.0)
    with patch(block, "act", cache["act"], neurons=[0]):
        out = dirs.project(block(phelps))
    assert (out["basketball"], out["swimming"]) == (1.0, 1.0), "only neuron 0 patched: Phelps's own gate still fires"


@given(st.integers(0, 2 ** 16), st.data())
def test_patching_equals_running_the_down_projection_on_the_patched_neurons(seed, data):
    block = nn.MLPBlock(3, 5, seed=seed)
    source, target = tg.randn(3, seed=seed + 1), tg.randn(3, seed=seed + 2)
    chosen = data.draw(st.lists(st.integers(0, 4), max_size=5, unique=True))
    _, cache = run_with_cache(block, source, names=["act"])
    with patch(block, "act", cache["act"], neurons=chosen):
        patched = block(target).tolist()
    own, theirs = block.hidden(target).tolist(), block.hidden(source).tolist()
    mixed = tg.tensor([theirs[j] if j in chosen else own[j] for j in range(5)])
    expected = (target + block.down(mixed)).tolist()
    assert patched == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_a_patch_of_the_wrong_shape_names_both_shapes():
    block = nn.MLPBlock(2, 3, seed=0)
    with patch(block, "act", tg.zeros(4)):
        with pytest.raises(tg.ShapeError, match=r"patch\(act\): the replacement of shape \(4,\) does not fit the "
                                                r"activation of shape \(3,\)"):
            block(tg.zeros(2))
