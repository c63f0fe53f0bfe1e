"""The lecture's claims, each at a small size: AND gate, fact recall, toy models, packing, directions."""
import math

import pytest

import tinygrad_edu as tg
from tinygrad_edu.models import michael_jordan as mj
from tinygrad_edu.models import mini_transformer as mt
from tinygrad_edu.models import mlp_block as mb
from tinygrad_edu.models import superposition as sp
from tinygrad_edu.directions import Directions


# ---------------------------------------------------------------------------------------- Directions
def test_orthonormal_directions_are_exact():
    dirs = Directions.orthonormal(["a", "b", "c"], dim=5)
    assert dirs.names == ["a", "b", "c"] and dirs.dim == 5
    assert dirs["b"].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert dirs.project(dirs.embed(["a", "c", "c"])) == {"a": 1.0, "b": 0.0, "c": 2.0}
    rows = dirs.project(tg.stack([dirs["a"], dirs["b"] * 3]))
    assert rows == [{"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 3.0, "c": 0.0}]


def test_random_directions_are_unit_seeded_and_nearly_orthogonal():
    a = Directions.random(["x", "y", "z"], 4000, seed=1)
    b = Directions.random(["x", "y", "z"], 4000, seed=1)
    c = Directions.random(["x", "y", "z"], 4000, seed=2)
    assert a["x"].tolist() == b["x"].tolist() != c["x"].tolist()
    d = Directions.random(["x", "y", "z"], 4000, generator=tg.Generator(1))
    assert d["z"].tolist() == a["z"].tolist()
    for n in a.names:
        assert a.cosine(n, n) == pytest.approx(1.0, abs=1e-12)
    # cos of two random unit vectors has standard deviation 1/sqrt(d) = 0.016: 6 sigma is 0.095.
    assert abs(a.cosine("x", "y")) < 0.095


def test_directions_errors_name_the_problem():
    with pytest.raises(ValueError, match="3 names do not fit in dim=2"):
        Directions.orthonormal(["a", "b", "c"], dim=2)
    with pytest.raises(ValueError, match="'a' given twice"):
        Directions.orthonormal(["a", "a"])
    dirs = Directions.orthonormal(["a"])
    with pytest.raises(KeyError, match="'zz'"):
        dirs["zz"]
    with pytest.raises(ValueError, match="length 3 differs from dim=1"):
        dirs.project(tg.zeros(3))


# ---------------------------------------------------------------------------------------- Michael Jordan
def case(example, label):
    return next(c for c in example["cases"] if c["label"] == label)


def test_hand_built_and_gate_is_exact_on_orthonormal_directions(backend):
    ex = mj.hand_built_example()
    assert case(ex, "Michael Jordan")["neurons"][0] == 1.0
    assert case(ex, "Michael Jordan")["output"]["basketball"] == 1.0
    for label in ("Michael", "Jordan", "Michael Phelps", "LeBron Jordan", "(nothing)"):
        assert case(ex, label)["neurons"][0] == 0.0
        assert case(ex, label)["output"]["basketball"] == 0.0
    assert case(ex, "Michael Phelps")["output"]["swimming"] == 1.0
    # The input passes through unchanged along its own names (the residual connection).
    assert case(ex, "Michael Jordan")["output"]["Michael"] == 1.0


def test_hand_built_block_weights_are_the_lecture_recipe():
    dirs = Directions.orthonormal(mj.HAND_BUILT_VOCAB)
    block = mj.hand_built_block(dirs)
    assert block.up.weight.tolist()[0] == dirs.embed(["Michael", "Jordan"]).tolist()
    assert block.up.bias.tolist() == [-1.0, -1.0]
    assert [row[0] for row in block.down.weight.tolist()] == dirs["basketball"].tolist()
    assert block.down.bias.tolist() == [0.0] * dirs.dim


def test_hand_built_and_gate_holds_approximately_in_gpt3_width():
    # d = 12,288 as in GPT-3: random unit vectors, |cos| ≈ 0.009 each, so results are within a few hundredths.
    ex = mj.hand_built_example(dim=12288, seed=0)
    assert case(ex, "Michael Jordan")["output"]["basketball"] == pytest.approx(1.0, abs=0.06)
    for label in ("Michael", "Jordan", "Michael Phelps", "LeBron Jordan", "(nothing)"):
        assert abs(case(ex, label)["output"]["basketball"]) < 0.06
        assert case(ex, label)["neurons"][0] < 0.06


def test_fact_store_reaches_full_recall_on_a_small_set(backend):
    result = mj.train(steps=250, seed=0, facts=mj.FACTS[:6], dim=32, d_hidden=16)
    assert result.metrics["recall"] == 1.0
    assert result.metrics["false_alarms_on_single_names"] == 0
    assert result.losses[-1] < result.losses[0] / 10


# ---------------------------------------------------------------------------------------- superposition
def test_linear_toy_model_keeps_exactly_the_top_m_features(backend):
    model, losses = sp.train_toy_model(0.0, steps=400, relu=False, n_features=8, n_hidden=3, batch=64, seed=0)
    stats = sp.toy_model_stats(model.W.tolist())
    assert stats["represented"] == [0, 1, 2]
    assert stats["dims_per_feature"] == pytest.approx(1.0, abs=0.05)
    # the kept features are nearly orthogonal (0.1 is the threshold the report uses for "in superposition")
    assert max(stats["superposition"][i] for i in range(3)) < 0.1


def test_sparse_relu_toy_model_packs_more_features_than_dimensions():
    model, _ = sp.train_toy_model(0.95, steps=800, relu=True, n_features=8, n_hidden=3, batch=128, seed=0)
    stats = sp.toy_model_stats(model.W.tolist())
    assert len(stats["represented"]) > 3


def test_toy_model_stats_on_a_hand_made_matrix():
    # features 0 and 1 antipodal in dimension 0, feature 2 alone in dimension 1, feature 3 absent
    stats = sp.toy_model_stats([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.1]])
    assert stats["represented"] == [0, 1, 2]
    assert stats["antipodal_pairs"] == [(0, 1)]
    assert stats["superposition"][0] == pytest.approx(1.0) and stats["superposition"][2] == pytest.approx(0.01)
    assert stats["dims_per_feature"] == pytest.approx(2 / 3.01)


def test_mean_abs_cos_crowds_most_pairs_near_90_by_bundling(backend):
    result = sp.train_orthogonal(steps=120, seed=0, vectors=40, dim=8, power=1)
    m = result.metrics
    assert m["trained_within_85_95"] > m["random_within_85_95"] + 0.2
    assert m["trained_mean_abs_cos"] < m["random_mean_abs_cos"]
    assert m["trained_near_parallel"] > m["random_near_parallel"], "the price: bundles of near-parallel vectors"
    assert m["welch_bound"] == pytest.approx(math.sqrt((40 - 8) / (8 * 39)))


def test_packing_by_default_spreads_the_vectors(backend):
    m = sp.train_orthogonal(steps=120, seed=0, vectors=40, dim=8).metrics
    assert m["trained_max_abs_cos"] < m["random_max_abs_cos"]
    assert m["trained_near_parallel"] == 0


def test_high_power_loss_lowers_the_largest_cosine():
    result = sp.train_orthogonal(steps=120, seed=0, vectors=20, dim=6, power=8)
    m = result.metrics
    assert m["trained_max_abs_cos"] < m["random_max_abs_cos"]
    assert m["trained_max_abs_cos"] >= m["welch_bound"] - 1e-9


def test_angle_stats_on_a_known_configuration():
    stats = sp.angle_stats(tg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert stats["pairs"] == 3
    assert stats["within_89_91"] == pytest.approx(1 / 3)
    assert stats["max_abs_cos"] == pytest.approx(math.sqrt(0.5))


# ---------------------------------------------------------------------------------------- MLP block, transformer
def test_gpt3_figures_match_the_lecture():
    g = mb.gpt3_figures()
    assert g["weights_per_block"] == 1_207_959_552
    assert g["biases_per_block"] == 61_440
    assert g["mlp_weights_all_layers"] == 115_964_116_992
    assert g["attention_weights_all_layers"] == 57_982_058_496


def test_mlp_block_student_learns_the_teacher():
    result = mb.train(steps=150, seed=0, d_model=6, d_hidden=16, teacher_hidden=4)
    assert result.metrics["test_mse"] < 0.1 * result.metrics["identity_baseline_mse"]


def test_mini_transformer_completes_facts_and_ablation_is_reported():
    result = mt.train(steps=80, seed=0, facts=mj.FACTS[:4], d_model=12, d_hidden=16)
    assert result.metrics["fact_accuracy"] == 1.0
    ab = result.details["ablation"]
    assert len(ab["without_mlp"]) == 4 and len(ab["drops"]) == 16
    assert all(m > 0 for m in ab["baseline"])
    # a neuron "breaks" a fact exactly when its removal takes more than the whole margin
    for j, drops in enumerate(ab["drops"]):
        broken = [i for i, d in enumerate(drops) if d >= ab["baseline"][i]]
        assert ab["breaks"].get(j, []) == broken


# ---------------------------------------------------------------------------------------- facts data, capacity
def test_real_facts_are_decided_by_the_last_name_and_crossed_facts_by_the_pair():
    sport_of_last = {}
    for _, last, sport in mj.FACTS:
        sport_of_last.setdefault(last, set()).add(sport)
    assert all(len(s) == 1 for s in sport_of_last.values()), "in the real facts the last name decides"
    crossed = mj.crossed_facts(96)
    assert crossed[:16] == mj.CROSSED_FACTS == mt.CROSSED_FACTS
    assert len({(f, l) for f, l, _ in crossed}) == 96
    for position in (0, 1):                              # first names, then last names
        by_name = {}
        for fact in crossed:
            by_name.setdefault(fact[position], []).append(fact[2])
        for sports in by_name.values():                  # every name plays every sport equally often
            assert len(set(sports)) == 4 and len({sports.count(s) for s in set(sports)}) == 1
    rows = {tuple(s for f2, _, s in crossed if f2 == first) for first in mj.CROSSED_FIRST_NAMES}
    assert len(rows) == 24, "no two made-up first names play the same sport for every last name"
    assert mj.choose_facts(40) == mj.FACTS + crossed[:20]
    with pytest.raises(ValueError, match="between 0 and 96"):
        mj.crossed_facts(97)


def test_hand_built_margin_keeps_single_names_half_a_unit_below_the_kink():
    ex = mj.hand_built_example(bias=-1.5)
    assert case(ex, "Michael Jordan")["pre_activation"][0] == 0.5
    assert case(ex, "Michael Jordan")["output"]["basketball"] == 1.0       # W_down = 2B
    for label in ("Michael", "Jordan"):
        assert case(ex, label)["pre_activation"][0] == -0.5
        assert case(ex, label)["output"]["basketball"] == 0.0
    with pytest.raises(ValueError, match="bias must be in"):
        mj.hand_built_block(Directions.orthonormal(mj.HAND_BUILT_VOCAB), bias=-2.5)


def test_fewer_neurons_than_facts_is_superposition_with_interference():
    result = mj.train_capacity(steps=250, seed=0, facts=8, neurons=[16, 8, 2], dim=32)
    rows = {row["neurons"]: row for row in result.details["rows"]}
    assert rows[16]["correct"] == 8 and rows[16]["coding"] == "a neuron per fact"
    assert rows[2]["coding"] == "superposition" and rows[2]["facts_per_neuron"] == 4
    assert rows[2]["largest_leak"] > rows[16]["largest_leak"]
    assert rows[2]["correct"] < 8, "ten times fewer neurons than needed: recall breaks"
    assert result.metrics["fewest_neurons_with_full_recall"] in (8, 16)


def test_knockouts_count_the_facts_a_neuron_carries():
    result = mj.train(steps=200, seed=0, facts=6, dim=32, d_hidden=3)
    d = result.details
    assert result.metrics["facts_per_neuron"] == 2
    lost = sum(len(v) for v in d["lost_without"].values())
    assert result.metrics["facts_lost_per_knockout"] == pytest.approx(lost / 3)
    assert all(0 <= i < 6 for facts in d["lost_without"].values() for i in facts)
    assert result.metrics["largest_wrong_sport_leak"] == max(e["leak"] for e in d["per_fact"])


# ---------------------------------------------------------------------------------------- many directions
def test_cos_tail_matches_the_shares_the_lecture_gives():
    assert 1 - sp.cos_tail(1, 12_288) == pytest.approx(0.95, abs=0.01)
    assert 1 - sp.cos_tail(1, 100) == pytest.approx(0.14, abs=0.01)
    # d = 3: cos θ is uniform on [−1, 1], so P(|cos| > sin ε) = 1 − sin ε exactly
    assert sp.cos_tail(30, 3) == pytest.approx(0.5, abs=1e-9)


def test_directions_within_grow_with_the_dimension():
    small = sp.directions_within(30, 8, trials=15, seed=0)
    large = sp.directions_within(30, 32, trials=15, seed=0)
    assert large["predicted_median"] > 4 * small["predicted_median"]
    assert large["median"] > small["median"]
    assert all(1 <= c <= small["limit"] for c in small["counts"])


def test_interference_grows_like_sqrt_k_over_d():
    rows = sp.interference(64, [4, 64, 512], trials=10, seed=1)
    for row in rows:
        assert row["interference"] == pytest.approx(math.sqrt(row["k"] / 64), rel=0.3)
