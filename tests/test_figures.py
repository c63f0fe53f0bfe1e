"""`tinygrad-edu figures`: every figure's numbers are recomputed (small sizes) and checked against what
the lessons say they show; every figure a lesson links is one the command draws (or one another command
made); the command needs matplotlib only to draw, and says how to install it when it is missing."""
import contextlib
import importlib.util
import math
import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg
from tinygrad_edu import tutorials
from tinygrad_edu.cli import main
from tinygrad_edu.commands import figures

FIGURES_DIR = tutorials.tutorials_dir() / "figures"
# Figures made by other commands (see the README): demo --save, show --export, train --export, probe --export.
MADE_ELSEWHERE = {"demo-residual", "show-michael-jordan", "trace-update", "train-superposition",
                  "probe-michael-jordan", "probe-superposition"}


def fast():
    """The NumPy backend when it is installed (the same numbers, faster), as the command uses."""
    return tg.use_backend("numpy") if importlib.util.find_spec("numpy") else contextlib.nullcontext()


def test_every_figure_is_committed_and_shown_in_a_lesson():
    for figure in figures.FIGURES:
        assert (FIGURES_DIR / f"{figure.name}.svg").is_file(), f"run: tinygrad-edu figures --only {figure.name}"
    linked = {Path(target).stem for lesson in tutorials.lessons()
              for _, target in tutorials.image_links(lesson.text) if target.startswith("figures/")}
    assert set(figures.BY_NAME) <= linked, "every figure drawn appears in a lesson"


def test_committed_figures_stay_small():
    total = sum(p.stat().st_size for p in FIGURES_DIR.glob("*.svg"))
    assert total < 3 * 1024 * 1024


def test_mlp_block_stages_follow_the_block():
    stages = [label for label, _ in figures.mlp_block_data()["stages"]]
    assert stages[0] == "x" and "ReLU" in stages and stages[-1].startswith("x +")
    assert stages.index("ReLU") == 2


def test_activations_are_relu_and_gelu_with_their_derivatives():
    d = figures.activations_data(points=13, low=-3.0, high=3.0)
    for x, r, g, dr in zip(d["x"], d["relu"], d["gelu"], d["relu_grad"]):
        assert r == max(x, 0.0)
        assert dr == (1.0 if x > 0 else 0.0)      # relu'(0) = 0
        exact = 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
        assert g == pytest.approx(exact, abs=1e-3)   # GELU (its tanh form is within 1e-3 of the exact one)
    assert min(d["gelu"]) < 0 <= min(d["relu"])


def test_and_gate_numbers_are_the_lecture_numbers():
    d = figures.and_gate_data(dim=100, seed=6)
    assert d["points"] == {"(nothing)": (0.0, 0.0), "Michael": (1.0, 0.0), "Jordan": (0.0, 1.0),
                           "Michael Jordan": (1.0, 1.0)}
    assert d["pre"][-1.0] == {"(nothing)": -1.0, "Michael": 0.0, "Jordan": 0.0, "Michael Jordan": 1.0}
    assert d["pre"][-1.5] == {"(nothing)": -1.5, "Michael": -0.5, "Jordan": -0.5, "Michael Jordan": 0.5}
    # random directions: a single name is M·J off the kink with bias −1, and 0.5 lower with the margin
    mj = d["pre_random"][-1.0]["Michael"]
    assert d["pre_random"][-1.5]["Michael"] == pytest.approx(mj - 0.5)
    assert 0 < mj < 0.5, "the drawn seed shows a leak that the margin stops"


def test_angles_crowd_towards_90_degrees_as_the_dimension_grows():
    d = figures.angle_data(sizes=((3, 40), (100, 40), (2000, 20)), seed=1)
    shares = [p["within_89_91"] for p in d["panels"]]
    assert shares[0] < shares[1] < shares[2]
    for p in d["panels"]:
        assert len(p["angles"]) == p["count"] * (p["count"] - 1) // 2
        assert all(0 <= a <= 180 for a in p["angles"])
    assert d["panels"][1]["predicted_within_89_91"] == pytest.approx(0.1375, abs=0.01)


def test_exponential_growth_and_interference_numbers():
    d = figures.exponential_data(eps_degrees=30, dims=(8, 16, 32), trials=15, interference_dim=50,
                                 ks=(5, 50, 500), seed=0)
    predicted = [r["predicted"] for r in d["rows"]]
    assert predicted[0] < predicted[1] < predicted[2]
    # exponential: equal steps in d multiply the prediction by about the same factor
    assert predicted[2] / predicted[1] == pytest.approx((predicted[1] / predicted[0]) ** 2, rel=0.35)
    assert d["rows"][-1]["median"] > d["rows"][0]["median"]
    for r in d["interference"]:
        assert r["interference"] == pytest.approx(r["sqrt_k_over_d"], rel=0.3)
    assert [g["count"] for g in d["gpt3"]] == sorted(g["count"] for g in d["gpt3"])
    assert d["gpt3"][-1]["count"] > 1e9


def test_packing_power_8_spreads_and_power_1_bundles():
    d = figures.packing_data(vectors=30, dim=6, steps=150, seed=0)
    spread, bundled = d["runs"]["power 8"], d["runs"]["power 1"]
    assert max(spread) < max(d["runs"]["random"])
    assert max(spread) >= d["welch_bound"] - 1e-9
    assert sum(c > 0.9 for c in spread) == 0
    assert sum(c > 0.9 for c in bundled) > 0


def test_toy_model_figures_data():
    with fast():
        gram = figures.toy_gram_data(steps=300, batch=64, sparsities=[0.0, 0.95])
        dims = figures.toy_dims_data(steps=300, batch=64, sparsities=(0.0, 0.95))
        two = figures.toy_2d_data(steps=600, batch=64, sparsities=(0.9,))
    labels = [run["label"] for run in gram["runs"]]
    assert labels == ["linear", "ReLU S=0", "ReLU S=0.95"]
    for run in gram["runs"]:
        n = len(run["norms"])
        for i in range(n):
            assert run["gram"][i][i] == pytest.approx(run["norms"][i] ** 2)
    relu = [r for r in dims["rows"] if r["relu"]]
    assert relu[1]["dims_per_feature"] < relu[0]["dims_per_feature"]
    run = two["runs"][0]
    assert len(run["columns"]) == 5
    assert run["norms"] == pytest.approx([math.hypot(*c) for c in run["columns"]])


def test_fact_store_figure_data():
    with fast():
        d = figures.facts_capacity_data(steps=200, facts=8, neurons=[16, 2])
    wide, narrow = d["rows"]
    assert wide["facts_per_neuron"] == 0.5 and narrow["facts_per_neuron"] == 4
    assert wide["recall"] == 1.0
    assert narrow["largest_leak"] > wide["largest_leak"]


def test_loss_curve_and_transformer_data():
    short = {label: 3 for label in ("MLP block imitates a teacher", "fact store: 20 facts, 32 neurons",
                                    "fact store: 40 facts, 16 neurons", "packing 60 vectors in 10 dimensions",
                                    "toy model, S = 0.9", "mini transformer, 36 facts")}
    with fast():
        d = figures.loss_curve_data(steps=short)
        t = figures.transformer_data(steps=5, d_model=8, d_hidden=8)
    assert [len(r["losses"]) for r in d["runs"]] == [3] * 6
    assert len(t["facts"]) == 36 and t["crossed"].count(True) == 16
    assert len(t["with_mlp"]) == len(t["without_mlp"]) == 36


def test_strides_data_is_where_each_element_lives():
    d = figures.strides_data()
    x, xt = d["views"]["x"], d["views"]["x.T"]
    assert d["storage"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert x["strides"] == (3, 1) and xt["strides"] == (1, 3)
    for view in (x, xt):
        for pos_row, val_row in zip(view["positions"], view["values"]):
            assert [d["storage"][k] for k in pos_row] == val_row
    assert xt["positions"] == [list(col) for col in zip(*x["positions"])]


def test_backend_speed_data_agrees_between_backends():
    d = figures.backend_speed_data(sizes=(2, 8), repeat=1)
    for row in d["rows"]:
        assert all(row[b] > 0 for b in d["backends"])
        assert row["difference"] < 1e-12


def test_missing_matplotlib_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib now raises ImportError
    assert main(["figures", "--only", "mlp-block", "--out", "unused"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "tinygrad-edu[plots]"' in err and "matplotlib" in err


def test_unknown_figure_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["figures", "--only", "no-such-figure"])
    assert info.value.code == 2
    assert "no figure called no-such-figure" in capsys.readouterr().err


def test_list_names_every_figure(capsys):
    assert main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(figure.name in out for figure in figures.FIGURES)


def test_the_command_writes_svg_files(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["figures", "--only", "mlp-block,strides,and-gate", "--out", str(tmp_path)]) == 0
    for name in ("mlp-block", "strides", "and-gate"):
        text = (tmp_path / f"{name}.svg").read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert str(tmp_path) in " ".join(capsys.readouterr().out.split())
