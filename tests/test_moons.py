"""micrograd's demo: the data, the model, the loss, the schedule, 100 % accuracy, the pictures, the CLI."""
from __future__ import annotations

import json
import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.models import TASKS, moons
from tinygrad_edu.cli import main
from tinygrad_edu.testing import gradcheck


# ---- data ---------------------------------------------------------------------------------------
@given(n=st.integers(2, 60), seed=st.integers(0, 10_000))
def test_without_noise_the_points_lie_on_the_two_arcs(n, seed):
    points, labels = moons.make_moons(n, noise=0.0, seed=seed)
    assert len(points) == len(labels) == n
    assert labels.count(-1) == n // 2 and labels.count(1) == n - n // 2
    for (x, y), label in zip(points, labels):
        # the upper moon: the unit circle about (0, 0), y >= 0; the lower: about (1, 0.5), y <= 0.5
        cx, cy = (0.0, 0.0) if label == -1 else (1.0, 0.5)
        assert math.hypot(x - cx, y - cy) == pytest.approx(1.0, abs=1e-12)
        assert (y >= -1e-12) if label == -1 else (y <= 0.5 + 1e-12)


def test_the_same_seed_gives_the_same_points_and_another_seed_others():
    assert moons.make_moons(seed=3) == moons.make_moons(seed=3)
    assert moons.make_moons(seed=3)[0] != moons.make_moons(seed=4)[0]
    points, labels = moons.make_moons()
    assert len(points) == 100 and sorted(labels) == [-1] * 50 + [1] * 50
    assert labels[:10] != sorted(labels[:10]), "shuffled, not one moon then the other"


@pytest.mark.parametrize("n, noise, message", [(1, 0.1, "at least 2"), (10, -0.1, "standard deviation")])
def test_impossible_data_is_refused(n, noise, message):
    with pytest.raises(ValueError, match=message):
        moons.make_moons(n, noise)


# ---- model and loss ----------------------------------------------------------------------------
def test_the_mlp_is_2_16_16_1_initialised_as_micrograds():
    model = moons.build(seed=5)
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    assert model.num_parameters() == 337
    weights = [v for name, p in model.named_parameters() if name.endswith("weight") for v in p.reshape(-1).tolist()]
    assert all(-1.0 < v < 1.0 for v in weights) and max(weights) > 0.9 and min(weights) < -0.9
    assert all(v == 0.0 for name, p in model.named_parameters() if name.endswith("bias") for v in p.tolist())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


@given(margins=st.lists(st.one_of(st.floats(-3.0, 0.9), st.floats(1.1, 4.0)), min_size=1, max_size=8),
       signs=st.data(), alpha=st.sampled_from([0.0, 1e-4, 0.5]))
def test_the_hinge_loss_is_what_its_formula_says(margins, signs, alpha):
    labels = [signs.draw(st.sampled_from([-1.0, 1.0])) for _ in margins]
    scores = [m * y for m, y in zip(margins, labels)]              # so that y·s = the drawn margin
    model = moons.build(hidden=(3,), seed=1)
    total, data_part, reg_part = moons.hinge_loss(tg.tensor([[s] for s in scores]), tg.tensor([[y] for y in labels]),
                                                  model, alpha)
    expected_data = sum(max(0.0, 1.0 - m) for m in margins) / len(margins)
    expected_reg = alpha * sum(v * v for p in model.parameters() for v in p.reshape(-1).tolist())
    assert data_part.item() == pytest.approx(expected_data, rel=1e-12, abs=1e-15)
    assert reg_part.item() == pytest.approx(expected_reg, rel=1e-12, abs=1e-15)
    assert total.item() == pytest.approx(expected_data + expected_reg, rel=1e-12, abs=1e-15)


@given(margins=st.lists(st.one_of(st.floats(-2.0, 0.8), st.floats(1.2, 3.0)), min_size=1, max_size=5),
       signs=st.data())
def test_the_hinge_loss_gradient_matches_central_differences_away_from_the_kink(margins, signs):
    labels = [signs.draw(st.sampled_from([-1.0, 1.0])) for _ in margins]
    scores = tg.tensor([[m * y] for m, y in zip(margins, labels)], requires_grad=True)
    model = moons.build(hidden=(2,), seed=0)
    y = tg.tensor([[v] for v in labels])
    assert gradcheck(lambda s: moons.hinge_loss(s, y, model)[0], scores)


# ---- training -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_demo_reaches_100_percent_training_accuracy(backend, seed):
    result = moons.train(seed=seed)
    assert result.metrics["accuracy"] == 1.0
    assert result.config["steps"] == 100 and len(result.losses) == 100
    points, labels = moons.make_moons(seed=seed)
    assert moons.accuracy(result.details["model"], points, labels) == 1.0     # counted again, independently
    assert result.losses[-1] < result.losses[0] / 10


def test_the_learning_rate_falls_from_1_to_0_1_over_the_steps(monkeypatch):
    seen = []
    original = tg.optim.SGD.step

    def step(self):
        seen.append(self.lr)
        return original(self)

    monkeypatch.setattr(tg.optim.SGD, "step", step)
    moons.train(steps=100)
    assert len(seen) == 100
    assert all(lr == pytest.approx(1.0 - 0.9 * k / 100, abs=1e-15) for k, lr in enumerate(seen))


def test_one_step_is_one_plain_sgd_step_on_the_whole_loss():
    """After one step each weight moved by exactly −1.0 · ∂L/∂w at the start."""
    points, labels = moons.make_moons(seed=0)
    model = moons.build(seed=1)
    x, y = tg.tensor(points), tg.tensor([[float(v)] for v in labels])
    moons.hinge_loss(model(x), y, model)[0].backward()
    expected = {name: [w - g for w, g in zip(p.reshape(-1).tolist(), p.grad.reshape(-1).tolist())]
                for name, p in model.named_parameters()}
    trained = moons.train(steps=1, seed=0).details["model"]
    for name, p in trained.named_parameters():
        assert p.reshape(-1).tolist() == pytest.approx(expected[name], rel=1e-12, abs=1e-15)


# ---- pictures -----------------------------------------------------------------------------------
def test_the_terminal_picture_marks_every_point_and_both_regions():
    from rich.console import Console

    result = moons.train(steps=40)
    console = Console(width=100, record=True, color_system=None)
    for part in moons.report(result):
        console.print(part)
    text = console.export_text()
    rows = [line for line in text.splitlines() if line.startswith("│")][:20]
    assert len(rows) == 20
    marks = sum(row.count("●") + row.count("▲") for row in rows)
    assert 80 <= marks <= 100          # points sharing a character cell are drawn once
    assert any("·" in row for row in rows) and any("  " in row[1:-1] for row in rows)
    assert "the decision boundary" in text and "training accuracy" in text


def test_the_picture_shades_each_cell_by_the_sign_of_the_score():
    model = moons.build(seed=2)
    grid = moons.boundary_grid(model, columns=8, rows=4)
    text = moons.render_boundary(model, [], [], columns=8, rows=4).plain.splitlines()
    for grid_row, text_row in zip(grid, text):
        assert text_row == "".join(" " if s > 0 else "·" for s in grid_row)


def test_the_figure_is_written_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "moons.png"
    result = moons.train(steps=5, figure=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.details["figure"] == str(path)


def test_without_matplotlib_the_figure_setting_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["train", "moons", "--steps", "2", "--set", f"figure={tmp_path / 'm.png'}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "needs matplotlib" in err and "pip install" in err


# ---- the command --------------------------------------------------------------------------------
def test_moons_is_one_of_the_training_tasks():
    assert TASKS["moons"][:2] == ("tinygrad_edu.models.moons", "train")


def test_train_moons_json_reports_full_accuracy(capsys):
    assert main(["train", "moons", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model"] == "moons" and payload["metrics"]["accuracy"] == 1.0
    assert payload["config"]["steps"] == 100 and payload["metrics"]["parameters"] == 337


def test_train_moons_draws_the_boundary(capsys):
    assert main(["train", "moons", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert "the decision boundary s(x) = 0" in out and "●" in out and "▲" in out
    assert "100% after 100 steps" in out and "0 of 100 points misclassified" in out


# ---- the benchmark ------------------------------------------------------------------------------
def test_bench_runs_the_same_demo_in_micrograd_from_the_same_numbers():
    pytest.importorskip("micrograd")
    from rich.console import Console

    from tinygrad_edu.benchmarks import moons_demo

    results = moons_demo.run(repeat=1, budget=0.01, backends=("python",))
    ours, theirs = results["results"]["tinygrad_edu_python"], results["results"]["micrograd"]
    assert theirs["agrees"] and ours["agrees"] and len(theirs["losses"]) == moons_demo.CHECK_STEPS
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(ours["losses"], theirs["losses"]))
    assert ours["accuracy"] == 1.0 and theirs["median_ms"] > 0
    console = Console(width=160, record=True, color_system=None)
    moons_demo.render(results, console)
    text = console.export_text()
    assert "micrograd's demo" in text and "micrograd (scalar autograd)" in text and "100%" in text
