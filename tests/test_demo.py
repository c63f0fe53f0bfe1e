"""`tinygrad-edu demo`: the Michael Jordan block, its numbers, and how the story reads at 80 and 120 columns."""

import io
import re

import pytest

import tinygrad_edu as tg
from tinygrad_edu.cli import main
from tinygrad_edu.commands import demo
from tinygrad_edu.directions import Directions
from tinygrad_edu.commands.output import offscreen_console
from tinygrad_edu.trace.render import render_event
from tinygrad_edu.trace.target import run_target


@pytest.fixture(scope="module")
def tape():
    return run_target(demo.michael_jordan).tape


def forward_output(tape, name):
    return next(e for e in tape.forward if e.output.name == name)


def test_the_neuron_is_an_and_gate_for_michael_and_jordan():
    # The lecture's figures for orthonormal M, J, B: the neuron reads exactly 1 for M + J and exactly 0
    # for M alone, J alone and the zero vector; the output's component along B is 1 versus 0.
    dirs, block = demo.build_block()
    with tg.no_grad():
        for words, fires in ((["Michael", "Jordan"], 1.0), (["Michael"], 0.0), (["Jordan"], 0.0), ([], 0.0)):
            x = dirs.embed(words)
            assert block.hidden(x).tolist()[0] == fires
            assert dirs.project(demo.forward(block, x))["basketball"] == fires


def test_residual_adds_basketball(tape):
    residual = forward_output(tape, "y")
    x, delta = residual.inputs
    assert x.projection("basketball") == 0.0 and residual.output.projection("basketball") == 1.0
    assert residual.output.projection("Michael") == x.projection("Michael") == 1.0
    gate = forward_output(tape, "h")
    assert gate.output.tolist() == [1.0, 0.0]  # Michael AND Phelps stays silent


def test_one_sgd_step_follows_the_rule(tape):
    updates = tape.updates
    assert [u.name for u in updates] == ["block.up.weight", "block.up.bias", "block.down.weight",
                                         "block.down.bias"]
    for update in updates:
        for before, grad, after in zip(update.before.values, update.grad.values, update.after.values):
            assert after == pytest.approx(before - demo.LEARNING_RATE * grad, abs=1e-15)
    down = next(u for u in updates if u.name == "block.down.weight")
    column0 = [row[0] for row in down.grad.tolist()]
    assert column0 == [-v for v in demo.build_block()[0]["basketball"].tolist()]  # ∂L/∂W_down[:, 0] = −B


def test_story_pages_cover_forward_backward_update(tape):
    pages = demo.story(tape)
    phases = [event.phase for event, _ in pages]
    assert phases.index("backward") > phases.index("forward") and phases[-1] == "update"
    assert phases == sorted(phases, key=["forward", "backward", "update"].index)


@pytest.mark.parametrize("width", [80, 120])
def test_demo_reads_at_80_and_120_columns(capsys, width):
    assert main(["demo", "--width", str(width)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    for heading in ("Michael Jordan plays basketball", "The up projection", "The ReLU gate",
                    "The down projection", "The residual", "Backward", "One SGD step", "After the update"):
        assert heading in out
    row = next(line for line in lines if re.search(r"basketball\s+0\.00\s+\+1\.00 █+\s+\+1\.00", line))
    assert row  # x before, delta, y after, side by side


def test_demo_closing_numbers_are_measured(capsys):
    assert main(["demo", "--width", "120"]) == 0
    out = capsys.readouterr().out
    dirs, block = demo.build_block()
    w_up, b_up = block.up.weight.tolist(), block.up.bias.tolist()
    lr = demo.LEARNING_RATE
    # One step on −(y·B): row 0 of W_up and b_up[0] move by lr·(M + J) and +lr, column 0 of W_down and
    # b_down by lr·B; so neuron 0 reads (1 + lr)·2 + (b_up[0] + lr) and adds (1 + lr)·that + lr of B.
    pre = (w_up[0][0] + lr) + (w_up[0][1] + lr) + b_up[0] + lr
    expected = (1 + lr) * max(pre, 0.0) + lr
    assert re.search(r"Michael Jordan\s+│?\s*1\.00\s+│?\s*" + re.escape(f"{expected:.2f}"), out)
    michael_alone = (w_up[0][0] + lr) + b_up[0] + lr  # neuron 0 on Michael alone, after the step
    flat = " ".join(out.replace("│", " ").split())
    assert f"neuron 0 now reads {michael_alone:.2f} for Michael alone" in flat


def test_demo_step_without_a_terminal_prints_everything(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))
    assert main(["demo", "--step", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert "the setup" in out and "the end" in out


def test_demo_save_text(capsys, tmp_path):
    path = tmp_path / "demo.txt"
    assert main(["demo", "--save", str(path), "--width", "90"]) == 0
    text = path.read_text(encoding="utf-8")
    assert "Michael Jordan plays basketball" in text and "y = x + delta" in text
    assert max(len(line) for line in text.splitlines()) <= 90


def test_event_panel_with_a_story_note(tape):
    residual = forward_output(tape, "y")
    console = offscreen_console(width=80, colour=False)
    console.print(render_event(residual, position=7, total=22, note="a note for the student"))
    text = console.export_text()
    assert "step 7 of 22" in text and "a note for the student" in text


def test_the_demo_block_agrees_with_the_models_hand_built_block():
    michael_jordan = pytest.importorskip("tinygrad_edu.models.michael_jordan")
    dirs, block = demo.build_block()
    model_dirs = Directions.orthonormal(michael_jordan.HAND_BUILT_VOCAB)
    model_block = michael_jordan.hand_built_block(model_dirs)
    with tg.no_grad():
        for words in (["Michael", "Jordan"], ["Michael"], ["Jordan"], ["Michael", "Phelps"], []):
            ours = dirs.project(block(dirs.embed(words)))
            theirs = model_dirs.project(model_block(model_dirs.embed(words)))
            assert ours == {name: theirs[name] for name in ours}
