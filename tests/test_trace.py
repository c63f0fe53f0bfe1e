"""The trace: recording (plain data), rendering with Rich, the graph, and the key-driven stepper."""

import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import autograd, nn, optim, trace
from tinygrad_edu.directions import Directions
from tinygrad_edu.commands.output import offscreen_console, save_console
from tinygrad_edu.shapes import flatten, nest
from tinygrad_edu.trace import stepper
from tinygrad_edu.trace.graph import graph_tree
from tinygrad_edu.trace.render import format_number, summary_table, values_grid


def rendered(*renderables, width=80):
    """What a console shows for the renderables (events drawn as their panels), as plain text."""
    console = offscreen_console(width=width, colour=False)
    for renderable in renderables:
        console.print(trace.panel(renderable) if isinstance(renderable, trace.Event) else renderable)
    return console.export_text()


def small_block():
    """A 3-dimensional MLP block with known weights (no randomness needed)."""
    block = nn.MLPBlock(d_model=3, d_hidden=2)
    block.load_state_dict({
        "up.weight": tg.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, -1.0]]),
        "up.bias": tg.tensor([-1.0, -0.5]),
        "down.weight": tg.tensor([[0.0, 0.5], [0.0, 0.0], [1.0, 0.0]]),
        "down.bias": tg.tensor([0.0, 0.0, 0.0]),
    })
    return block


# ---- recording -------------------------------------------------------------------------------------

def test_records_forward_then_backward_in_order_with_formulas():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True).named("x")
    with trace.record() as tape:
        h = x.relu().named("h")
        loss = h.sum().named("loss")
        loss.backward()
    assert [(e.phase, e.op) for e in tape] == [("forward", "ReLU"), ("forward", "Sum"),
                                               ("backward", "Sum"), ("backward", "ReLU")]
    relu = tape[0]
    assert relu.formula == tg.ops.ReLU.formula
    assert relu.plain_formula() == "z = max(x, 0)"
    assert relu.bound_formula() == "h = max(x, 0)"
    assert tape[3].bound_formula() == "∂L/∂x = ∂L/∂h ⊙ [x > 0]"
    assert [e.step for e in tape] == [1, 2, 3, 4] and all(e.total == 4 for e in tape)


def test_values_are_copies_so_an_update_does_not_rewrite_history():
    w = tg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True).named("w")
    x = tg.tensor([1.0, 3.0]).named("x")
    before = w.tolist()
    opt = optim.SGD([("w", w)], lr=0.5)
    with trace.record() as tape:
        loss = (w @ x).sum()
        loss.backward()
        opt.step()
    assert w.tolist() != before
    matmul = tape.forward[0]
    assert matmul.inputs[0].name == "w" and matmul.inputs[0].tolist() == before
    update, = tape.updates
    grad = update.grad.tolist()
    assert update.before.tolist() == before
    assert update.after.tolist() == [[b - 0.5 * g for b, g in zip(rb, rg)] for rb, rg in zip(before, grad)]
    assert update.after.tolist() == w.tolist()
    assert update.name == "w" and "0.5" in update.rule


def test_backward_events_hold_the_gradients_the_leaves_receive():
    a = tg.tensor([[1.0, 2.0], [3.0, -4.0]], requires_grad=True).named("a")
    b = tg.tensor([0.5, -1.5], requires_grad=True).named("b")
    with trace.record() as tape:
        (a * b).sum().backward()
    mul = next(e for e in tape.backward if e.op == "Mul")
    grad_a, grad_b = mul.input_grads
    assert grad_a.label == "∂L/∂a" and grad_a.tolist() == a.grad.tolist()
    assert grad_b.label == "∂L/∂b" and grad_b.tolist() == b.grad.tolist()  # summed over the broadcast rows
    assert mul.grad_output.shape == (2, 2)


def test_names_from_modules_named_tensors_and_short_stable_names():
    block = small_block()
    x = tg.tensor([1.0, 1.0, 0.0])

    def run():
        with trace.record(modules={"block": block}) as tape:
            block(x).sum().backward()
        return tape

    tape = run()
    names = [s.name for e in tape for s in e.snapshots()]
    assert {"block.up.weight", "block.up.bias", "block.down.weight", "block.down.bias"} <= set(names)
    assert "block.up.weight.T" in names  # the transpose of a named matrix is named as the code writes it
    automatic = [n for n in dict.fromkeys(names) if re.fullmatch(r"t\d+", n)]
    assert automatic == [f"t{i}" for i in range(1, len(automatic) + 1)]
    assert [s.name for e in run() for s in e.snapshots()] == names  # the same run gives the same names


def test_a_name_given_after_the_op_still_names_its_output():
    x = tg.tensor([2.0, -1.0]).named("x")
    with trace.record() as tape:
        h = (x * 3).named("h")
    assert tape[0].output.name == "h"
    assert h.name == "h"


def test_recorder_is_restored_after_the_block_and_after_an_error():
    assert autograd.get_recorder() is None
    with trace.record() as outer:
        with pytest.raises(RuntimeError):
            with trace.record():
                raise RuntimeError("boom")
        assert autograd.get_recorder() is outer
        tg.tensor([1.0]) + 1
    assert autograd.get_recorder() is None
    assert len(outer) == 1
    tg.tensor([1.0]) + 1  # off: nothing more is recorded
    assert len(outer) == 1


def test_projections_onto_named_directions_match_dot_products():
    dirs = Directions.random(["Michael", "Jordan", "basketball"], dim=4, seed=3)
    vector = tg.tensor([0.3, -1.2, 2.0, 0.7]).named("v")
    matrix = tg.tensor([[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, -0.5, 2.0]]).named("m")
    with trace.record(directions=dirs) as tape:
        out = vector * 2
        _ = matrix + 0
    expected = dirs.project(out)
    snap = tape[0].output
    for name in dirs.names:
        assert snap.projection(name) == pytest.approx(expected[name], abs=1e-12)
    rows = dirs.project(matrix)
    assert len(tape[1].output.projections) == 2
    assert tape[1].output.projection("basketball", vector=1) == pytest.approx(rows[1]["basketball"], abs=1e-12)
    assert tape[1].inputs[1].projections is None  # the scalar 0 is not a vector of the vocabulary


def test_attaching_directions_after_recording_gives_the_same_projections():
    dirs = Directions.orthonormal(["a", "b", "c"])
    x = tg.tensor([1.0, 2.0, 3.0])
    with trace.record(directions=dirs) as live:
        x * 2
    with trace.record() as later:
        x * 2
    assert later[0].output.projections is None
    later.attach(dirs)
    assert later[0].output.projections == live[0].output.projections


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.data())
def test_snapshots_hold_shape_and_values_of_any_small_tensor(rows, cols, data):
    values = data.draw(st.lists(st.lists(st.floats(-5, 5, allow_nan=False), min_size=cols, max_size=cols),
                                min_size=rows, max_size=rows))
    a = tg.tensor(values, requires_grad=True).named("a")
    with trace.record() as tape:
        (a.T * 2.0).sum().backward()
    permute = tape.forward[0]
    assert permute.inputs[0].shape == (rows, cols) and permute.inputs[0].tolist() == values
    assert permute.output.shape == (cols, rows)
    assert permute.output.tolist() == [list(col) for col in zip(*values)]
    last = tape.backward[-1]
    assert last.input_grads[0].tolist() == a.grad.tolist()
    assert nest(*flatten(values)) == values


def test_recording_needs_no_rich():
    code = "import sys, tinygrad_edu as tg; from tinygrad_edu import trace\n" \
           "with trace.record() as t:\n    (tg.tensor([1.0], requires_grad=True) * 2).sum().backward()\n" \
           "assert len(t) == 4\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_student_op_without_formula_shows_its_docstring():
    class Square(tg.Function):
        """z = x²  (a student's op)"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x * 2

    x = tg.tensor([3.0], requires_grad=True).named("u")
    with trace.record() as tape:
        Square.apply(x).named("v").sum().backward()
    forward = tape[0]
    assert forward.op == "Square" and forward.about == "z = x²  (a student's op)"
    assert forward.plain_formula() == "out = Square(x)"          # made from the op's name and forward's x
    assert forward.bound_formula() == "v = Square(u)"
    backward = next(e for e in tape.backward if e.op == "Square")
    assert backward.bound_formula() == "∂L/∂u from ∂L/∂v by Square.backward"
    text = rendered(forward)
    assert "z = x²  (a student's op)" in text and "v = Square(u)" in text


# ---- rendering -------------------------------------------------------------------------------------

def test_event_panel_shows_step_formula_shapes_and_values():
    x = tg.tensor([[1.0, -2.0, 0.5]], requires_grad=True).named("x")
    w = tg.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]], requires_grad=True).named("w")
    with trace.record() as tape:
        z = (x @ w).named("z")
        z.relu().named("h").sum().backward()
    text = rendered(tape[0], width=80)
    assert f"step 1 of {len(tape)}" in text and "forward" in text and "MatMul" in text
    assert "Z = X @ Y" in text and "z = x @ w" in text
    assert "x (1, 3), w (3, 2) → z (1, 2)" in text
    out_grid = text.split("out z (1, 2)")[1]
    assert all(format_number(v) in out_grid for v in flatten(z.tolist())[0])
    relu_backward = next(e for e in tape.backward if e.op == "ReLU")
    text = rendered(relu_backward)
    assert "∂L/∂z = ∂L/∂h ⊙ [z > 0]" in text and "backward" in text
    assert max(len(line) for line in rendered(*tape, width=80).splitlines()) <= 80


def test_relu_output_shows_the_share_of_zeros():
    values = [-1.0, 2.0, -3.0, 4.0, 0.5, -0.5, 1.5, -2.5]
    x = tg.tensor(values).named("z")
    with trace.record() as tape:
        x.relu()
    zeros = sum(v <= 0 for v in values) / len(values)
    assert f"{zeros:.0%} zero" in rendered(tape[0])


def test_large_tensors_are_summarised_with_corners_and_statistics():
    values = [[float(r * 20 + c) for c in range(20)] for r in range(15)]
    x = tg.tensor(values).named("big")
    with trace.record() as tape:
        x * 1.0
    text = rendered(tape[0], width=120)
    assert "…" in text and "⋮" in text
    assert format_number(values[7][10]) not in text  # a middle row is left out
    assert f"min {format_number(0.0)} max {format_number(299.0)} mean {format_number(149.5)}" in text


def test_grid_formats_numbers_small_beside_large_and_small_alone():
    values = (0.0, 1e-6, -12345.0, 0.125)
    text = rendered(values_grid(trace.Snapshot(key=1, name="v", shape=(2, 2), values=values)))
    scale = max(abs(v) for v in values)
    assert [format_number(v, scale) for v in values] == ["0", "0.00", "-1.2e+04", "0.12"]
    assert all(format_number(v, scale) in text for v in values)
    tiny = (2e-6, -3e-7)  # a grid of tiny gradients keeps its digits
    text = rendered(values_grid(trace.Snapshot(key=2, name="g", shape=(2,), values=tiny)))
    assert "2.0e-06" in text and "-3.0e-07" in text


def test_residual_step_shows_basketball_before_and_after():
    dirs = Directions.orthonormal(["Michael", "Jordan", "basketball"])
    x = dirs.embed(["Michael", "Jordan"]).named("x")
    delta = (dirs["basketball"] * 1.0).named("delta")
    with trace.record(directions=dirs) as tape:
        y = (x + delta).named("y")
    residual = tape[-1]
    assert residual.inputs[0].projection("basketball") == 0.0
    assert residual.output.projection("basketball") == 1.0
    text = rendered(residual, width=80)
    row = next(line for line in text.splitlines() if line.strip("│ ").startswith("basketball"))
    assert re.search(r"basketball\s+0\.00\s+\+1\.00 █+\s+\+1\.00 █+", row), row
    assert "in x" in text and "out y" in text and "y = x + delta" in text
    assert y.tolist() == [1.0, 1.0, 1.0]


def test_summary_and_graph():
    block = small_block()
    x = tg.tensor([1.0, 1.0, 0.0]).named("x")
    with trace.record(modules={"block": block}) as tape:
        loss = block(x).sum().named("loss")
        loss.backward()
    summary = rendered(summary_table(tape.events), width=120)
    assert summary.count("forward") == len(tape.forward) and summary.count("backward") == len(tape.backward)
    graph = rendered(graph_tree(tape), width=120).splitlines()
    assert graph[0] == "computation graph" and graph[1].split()[1] == "loss"
    assert any("block.up.weight (2, 3)  leaf · trainable" in line for line in graph)
    assert any("x (3,)  (see above)" in line for line in graph)  # the residual uses x twice
    depth = {name: next(line.index(name) for line in graph if f" {name} (" in line) for name in ("loss", "x")}
    assert depth["x"] > depth["loss"]


@pytest.mark.parametrize("suffix", [".svg", ".html", ".txt"])
def test_export_files_hold_the_formula(tmp_path, suffix):
    x = tg.tensor([1.0, -1.0], requires_grad=True).named("z")
    with trace.record() as tape:
        x.relu().named("h").sum().backward()
    console = offscreen_console(width=80)
    trace.show(tape, console=console)
    path = save_console(console, tmp_path / f"trace{suffix}")
    content = path.read_text(encoding="utf-8").replace("&#160;", " ")
    assert "h = max(z, 0)" in content and "∂L/∂z = ∂L/∂h ⊙ [z &gt; 0]" in content.replace(">", "&gt;")


def test_export_refuses_an_unknown_file_type(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        save_console(offscreen_console(), tmp_path / "trace.png")


# ---- stepper ---------------------------------------------------------------------------------------

def test_stepper_keys_next_back_jump_views_quit():
    s = stepper.Stepper(count=5)
    s.press("\r")
    s.press("n")
    assert s.index == 2
    s.press("p")
    s.press("b")
    s.press("b")
    assert s.index == 0 and "first" in s.message
    for key in "4\r":
        s.press(key)
    assert s.index == 3 and s.typed == ""
    for key in "9\r":
        s.press(key)
    assert s.index == 3 and "1 to 5" in s.message
    s.press("g")
    assert s.view == "graph"
    s.press("n")  # leaving the graph returns to the same step
    assert (s.view, s.index) == ("step", 3)
    s.press("s")
    s.press("s")
    s.press("?")
    assert s.view == "help"
    s.press("\x1b[C")  # → arrow
    assert (s.view, s.index) == ("step", 3)
    s.press("\x1b[C")
    s.press("n")
    assert s.index == 4 and "last" in s.message
    s.press("x")
    assert "?" in s.message
    s.press("q")
    assert s.done


def test_split_keys_separates_fast_typing_and_arrows():
    assert stepper.split_keys("12\r") == ["1", "2", "\r"]
    assert stepper.split_keys("\x1b[Dn\r\n") == ["\x1b[D", "n", "\r"]
    assert stepper.split_keys("\x1b") == ["\x1b"]


def test_run_draws_pages_in_the_order_the_keys_ask():
    pages = [f"page number {i}" for i in range(1, 6)]
    console = offscreen_console(width=80, colour=False)
    final = stepper.run(console, pages, ["n", "n", "p", "5", "\r", "g", "q"], graph="the graph view",
                        summary="the summary view", clear=False)
    text = console.export_text()
    shown = re.findall(r"page number \d|the graph view", text)
    # "5" alone redraws page 2 with the half-typed number; Enter jumps; g shows the graph.
    assert shown == [f"page number {n}" for n in (1, 2, 3, 2, 2, 5)] + ["the graph view"]
    assert final.done
    assert "jump to step 5" in text  # the half-typed number is shown before Enter


def test_run_stops_when_the_keys_run_out():
    console = offscreen_console(width=80, colour=False)
    final = stepper.run(console, ["only page"], [], clear=False)
    assert not final.done and "only page" in console.export_text()


def test_line_keys_for_terminals_without_single_keys():
    import io

    keys = list(stepper.line_keys(io.StringIO("\n12\np\nq\n")))
    assert keys == ["\r", "1", "2", "\r", "p", "q"]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_terminal_keys_restores_the_terminal_even_after_an_error():
    termios = pytest.importorskip("termios")
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            saved = termios.tcgetattr(slave)
            with pytest.raises(KeyError):
                with stepper.terminal_keys(stream) as keys:
                    assert termios.tcgetattr(slave)[3] & termios.ICANON == 0  # single keys now
                    os.write(master, b"n12\r")  # typed after the switch (switching drops typed-ahead keys)
                    got = [stepper.normalize_key(next(keys)) for _ in range(4)]
                    assert got == ["n", "1", "2", "enter"]
                    raise KeyError("student pressed Ctrl-C")
            assert termios.tcgetattr(slave) == saved
    finally:
        os.close(master)
        os.close(slave)


def test_numbers_in_the_code_are_named_by_their_value_and_get_no_gradient_clause():
    x = tg.tensor([1.0, -2.0], requires_grad=True).named("x")
    with trace.record() as tape:
        ((x * 2 + 0.25) * x).sum().backward()
    formulas = [e.bound_formula() for e in tape]
    assert formulas[:2] == ["t1 = x ⊙ 2", "t2 = t1 + 0.25"]
    mul_backward = next(e for e in tape.backward if e.op == "Mul" and e.inputs[1].name == "2")
    assert mul_backward.bound_formula() == "∂L/∂x = ∂L/∂t1 ⊙ 2"  # no clause for the constant 2


def test_show_prints_every_event_of_a_phase():
    x = tg.tensor([3.0], requires_grad=True).named("x")
    with trace.record() as tape:
        (x * x).sum().backward()
    console = offscreen_console(width=80, colour=False)
    trace.show(tape, console=console, phase="backward")
    text = console.export_text()
    assert text.count("backward ·") == len(tape.backward) and "forward ·" not in text


def test_modules_given_alone_or_in_a_list_are_named_without_a_prefix():
    block = small_block()
    x = tg.tensor([1.0, 0.0, 1.0])
    for modules in (block, [block]):
        with trace.record(modules=modules) as tape:
            block(x)
        assert "up.weight" in {s.name for e in tape for s in e.snapshots()}
    with pytest.raises(TypeError, match="named_parameters"):
        trace.record(modules=[x]).__enter__()
    assert autograd.get_recorder() is None
