"""The whole trace as JSON (``--save trace.json``, `trace.save_json`) and read back (`trace.load_json`)."""
from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.cli import main
from tinygrad_edu.commands.demo import michael_jordan
from tinygrad_edu.commands.output import offscreen_console
from tinygrad_edu.trace.graph import graph_tree
from tinygrad_edu.trace.jsonfile import VERSION, TraceFileError, dumps, from_json, to_json
from tinygrad_edu.trace.render import render_event, summary_table
from tinygrad_edu.trace.target import run_target


def block_tape():
    return run_target(michael_jordan).tape


def drawn(tape, width: int = 100) -> list[str]:
    """Everything the renderers draw from a tape, in colour, at a fixed width: each step's panel, the
    summary, the graph as a tree, as SVG and as DOT."""
    pieces = []
    for event in tape:
        console = offscreen_console(width=width)
        console.print(render_event(event))
        pieces.append(console.file.getvalue())
    for renderable in (summary_table(list(tape)), graph_tree(tape)):
        console = offscreen_console(width=width)
        console.print(renderable)
        pieces.append(console.file.getvalue())
    pieces += [tape.graph_svg(title="g"), tape.to_dot(title="g")]
    return pieces


def round_trip(tape, tmp_path):
    path = trace.save_json(tape, tmp_path / "trace.json")
    return trace.load_json(path)


def test_the_block_renders_the_same_from_the_file_as_from_the_recording(tmp_path):
    live = block_tape()
    loaded = round_trip(live, tmp_path)
    assert len(loaded) == len(live) == 24
    live_drawn, loaded_drawn = drawn(live), drawn(loaded)
    assert len(live_drawn) == 24 + 4
    for number, (a, b) in enumerate(zip(live_drawn, loaded_drawn)):
        assert a == b, f"piece {number} differs"
    # And the check can fail: one changed number shows.
    loaded.forward[1].output.values = (7.0, 1.0)
    assert drawn(loaded) != live_drawn


def test_the_file_holds_names_shapes_values_gradients_and_formulas():
    live = block_tape()
    data = json.loads(dumps(live))
    assert data["format"] == "tinygrad-edu trace" and data["version"] == VERSION == 1
    assert [e["phase"] for e in data["events"]] == [e.phase for e in live]
    snapshots = data["snapshots"]
    matmul = data["events"][1]
    assert matmul["op"] == "MatMul" and matmul["text"] == "t1 = x @ block.up.weight.T"
    assert matmul["formula"] == live[1].formula and matmul["input_symbols"] == list(live[1].input_symbols)
    x, weight_t = (snapshots[i] for i in matmul["inputs"])
    assert x["name"] == "x" and x["shape"] == [5] and x["values"] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert weight_t["name"] == "block.up.weight.T" and weight_t["shape"] == [5, 2]
    assert set(x["projections"][0]) == {"Michael", "Jordan", "basketball", "Phelps", "swimming"}
    backward = next(e for e in data["events"] if e["phase"] == "backward" and e["op"] == "ReLU")
    assert snapshots[backward["grad_output"]]["is_grad"] and snapshots[backward["grad_output"]]["name"] == "h"
    update = data["events"][-1]
    assert update["phase"] == "update" and snapshots[update["after"]]["name"] == "block.down.bias"
    assert snapshots[update["after"]]["values"] == pytest.approx([0.0, 0.0, 0.1, 0.0, 0.0])
    assert data["directions"]["names"] == ["Michael", "Jordan", "basketball", "Phelps", "swimming"]
    assert data["roots"] == live.roots
    # The graph as drawn: a tensor per box with its role and gradient, an op per forward step.
    tensors = {t["name"]: t for t in data["graph"]["tensors"]}
    assert tensors["block.up.weight"]["role"] == "parameter" and tensors["loss"]["role"] == "loss"
    assert tensors["y"]["grad"] == [0.0, 0.0, -1.0, 0.0, 0.0] and tensors["x"]["grad"] is None
    assert len(data["graph"]["ops"]) == len(live.forward)
    # A snapshot shared by a forward step and its backward step is written once.
    forward_relu = next(e for e in data["events"] if e["phase"] == "forward" and e["op"] == "ReLU")
    assert backward["inputs"] == forward_relu["inputs"] and backward["output"] == forward_relu["output"]


def test_saving_what_was_loaded_gives_the_same_file(tmp_path):
    live = block_tape()
    assert dumps(round_trip(live, tmp_path)) == dumps(live)


def test_not_finite_numbers_and_integers_survive_as_strict_json(tmp_path):
    x = tg.tensor([0.0, 1.0, -1.0], requires_grad=True).named("x")
    with trace.record() as tape:
        x.log().named("logs")
        (tg.tensor([1, 2]).named("i") * 2).named("doubled")
    text = dumps(tape)
    assert "NaN" not in text and "Infinity" not in text          # strict JSON: other tools can read it
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the file"))
    loaded = round_trip(tape, tmp_path)
    logs = loaded.forward[0].output.values
    assert logs[0] == -math.inf and logs[1] == 0.0 and math.isnan(logs[2])
    doubled = loaded.forward[1].output
    assert doubled.dtype == "int64" and doubled.values == (2, 4) and all(type(v) is int for v in doubled.values)
    assert drawn(loaded) == drawn(tape)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=64), min_size=1, max_size=6))
def test_every_digit_of_every_value_and_gradient_comes_back(values):
    w = tg.tensor(values, requires_grad=True).named("w")
    with trace.record() as tape:
        ((w * w).sum() * 0.5).named("loss").backward()
    loaded = from_json(json.loads(dumps(tape)))
    for live_event, loaded_event in zip(tape, loaded):
        for a, b in zip(live_event.snapshots(), loaded_event.snapshots()):
            assert (a.name, a.shape, a.is_grad, a.values) == (b.name, b.shape, b.is_grad, b.values)


def test_a_student_op_without_a_formula_keeps_its_about_line(tmp_path):
    class Cube(tg.Function):
        """x cubed, the student's first try."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x * x * 3.0

    x = tg.tensor([1.0, 2.0], requires_grad=True).named("x")
    with trace.record() as tape:
        Cube.apply(x).sum().named("loss").backward()
    loaded = round_trip(tape, tmp_path)
    assert loaded.forward[0].about == "x cubed, the student's first try."
    assert drawn(loaded) == drawn(tape)


def test_load_json_reads_an_open_file_too():
    text = dumps(block_tape())
    assert len(trace.load_json(io.StringIO(text))) == 24


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something else"), "not a tinygrad-edu trace"),
    (lambda d: d.update(version=VERSION + 1), "upgrade tinygrad-edu"),
    (lambda d: d.update(version="one"), "whole number"),
    (lambda d: d["events"][0].update(output=10 ** 6), "outside 0.."),
    (lambda d: d["events"][0].update(phase="sideways"), "event 1 has the phase 'sideways'"),
    (lambda d: d["snapshots"][0].pop("shape"), "not laid out as version 1 says"),
    (lambda d: d["snapshots"][0].update(values=["many"]), "'many' is not a number"),
])
def test_a_file_that_is_not_a_readable_trace_is_one_clear_error(tmp_path, change, message):
    data = to_json(block_tape())
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TraceFileError, match="load_json") as info:
        trace.load_json(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_missing_file_or_one_that_is_not_json_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        trace.load_json(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(TraceFileError, match="is not JSON"):
        trace.load_json(broken)


# ---- the command ------------------------------------------------------------------------------------

def test_trace_save_json_keeps_the_whole_trace_and_it_renders_as_the_command_did(tmp_path, capsys):
    path = tmp_path / "trace.json"
    assert main(["trace", "--phase", "forward", "--width", "100", "--save", str(path)]) == 0
    printed, err = capsys.readouterr()
    assert f"trace saved to {path}" in err
    loaded = trace.load_json(path)
    assert len(loaded) == 24, "every phase is kept, whatever --phase showed"
    console = offscreen_console(width=100, colour=False)
    forward = loaded.forward
    for position, event in enumerate(forward, start=1):
        console.print(render_event(event, position=position, total=len(forward)))
    assert console.export_text() in printed


@pytest.mark.parametrize("name", ["trace.svg", "trace.txt"])
def test_trace_save_of_a_picture_name_still_keeps_the_printout(tmp_path, capsys, name):
    path = tmp_path / name
    assert main(["trace", "--pages", "2", "--width", "90", "--save", str(path)]) == 0
    assert "t1 = x @ block.up.weight.T" in path.read_text(encoding="utf-8").replace("&#160;", " ")


@pytest.mark.parametrize("argv, message", [
    (["--save", "trace.png"], "must end in .json (the trace itself) or in .svg, .html, .txt"),
    (["--save", "/no/such/folder/trace.json"], "does not exist"),
    (["--graph", "graph.png"], "--graph draws .svg or .dot"),
    (["--graph", "/no/such/folder/graph.svg"], "does not exist"),
])
def test_bad_file_names_are_usage_errors_before_anything_runs(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(["trace", *argv])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and message in err and out == ""


@pytest.mark.parametrize("suffix", [".svg", ".dot"])
def test_trace_graph_writes_the_picture_or_the_dot_text(tmp_path, capsys, suffix):
    path = tmp_path / f"graph{suffix}"
    assert main(["trace", "--pages", "1", "--graph", str(path)]) == 0
    assert f"graph saved to {path}" in capsys.readouterr().err
    text = path.read_text(encoding="utf-8")
    expected = block_tape().graph(title="computation graph of tinygrad_edu.commands.demo:michael_jordan")
    assert text == (expected.svg() if suffix == ".svg" else expected.dot())
