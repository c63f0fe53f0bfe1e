"""`tinygrad-edu trace`: targets by module or path, phases, non-terminal mode, export, bad input."""

import io
import re
import textwrap

import pytest

from tinygrad_edu.cli import main

STUDENT_FILE = '''
import tinygrad_edu as tg


class Cube(tg.Function):
    """My own op: the cube."""
    formula = "{z} = {x}³"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ 3{x}²"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x * x * 3


def neuron():
    x = tg.tensor([1.0, 2.0]).named("inputs")
    w = tg.tensor([0.5, 0.25], requires_grad=True).named("weights")
    return Cube.apply((x * w).sum().named("pre")).named("loss")


class Twice(tg.Function):
    """Doubles x (no formula stated yet)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.0


def twice():
    x = tg.tensor([1.0, -2.0], requires_grad=True).named("x")
    return Twice.apply(x).named("y").sum().named("loss")


def broken():
    return tg.tensor([1.0, 2.0]) @ tg.tensor([1.0, 2.0, 3.0])
'''


@pytest.fixture
def student_file(tmp_path):
    path = tmp_path / "my_neuron.py"
    path.write_text(textwrap.dedent(STUDENT_FILE), encoding="utf-8")
    return path


def run_cli(capsys, *argv):
    code = main(["trace", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_target_prints_every_step_summary_and_graph(capsys):
    code, out, _ = run_cli(capsys, "--width", "100")
    assert code == 0
    total = int(re.search(r"step 1 of (\d+)", out).group(1))
    assert all(f"step {k} of {total}" in out for k in range(1, total + 1))
    for phase in ("forward", "backward", "update"):
        assert f"· {phase} ·" in out
    assert "y = x + delta" in out and "block.up.weight" in out and "h = max(u, 0)" in out
    assert "computation graph" in out and "trace summary" not in out  # titled by the target
    assert max(len(line) for line in out.splitlines()) <= 100


def test_phase_keeps_only_that_phase(capsys):
    code, out, _ = run_cli(capsys, "--phase", "backward", "--width", "100")
    assert code == 0
    assert "· backward ·" in out and "· forward ·" not in out and "· update ·" not in out
    assert "∂L/∂u = ∂L/∂h ⊙ [u > 0]" in out


def test_a_student_file_traced_by_path(capsys, student_file):
    code, out, _ = run_cli(capsys, f"{student_file}:neuron", "--width", "100")
    assert code == 0
    assert "Cube" in out and "z = x³" in out  # the student's op with its own formula ...
    assert "loss = pre³" in out and "∂L/∂pre = ∂L/∂loss ⊙ 3pre²" in out  # ... and the names put in
    assert "t1 = inputs ⊙ weights" in out and "pre = Σ t1 over axes (0,)" in out
    assert "· backward ·" in out  # the returned loss was backpropagated
    assert "∂L/∂weights = ∂L/∂t1 ⊙ inputs" in out
    assert "∂L/∂inputs" not in out   # the inputs need no gradient: their clause is left out


def test_a_student_op_without_a_formula_still_reads_well(capsys, student_file):
    code, out, _ = run_cli(capsys, f"{student_file}:twice", "--width", "100")
    assert code == 0
    assert "Doubles x (no formula stated yet)." in out  # the docstring says what it is
    assert "y = Twice(x)" in out and "∂L/∂x from ∂L/∂y by Twice.backward" in out


def test_a_module_target(capsys):
    code, out, _ = run_cli(capsys, "tinygrad_edu.commands.demo:michael_jordan", "--phase", "update")
    assert code == 0 and out.count("· update ·") == 4


def test_step_without_a_terminal_prints_everything_and_exits_0(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("n\nn\nq\n"))
    code, stepped, _ = run_cli(capsys, "--step", "--width", "100")
    code_plain, plain, _ = run_cli(capsys, "--width", "100")
    assert code == code_plain == 0
    assert stepped == plain


@pytest.mark.parametrize("suffix", ["svg", "html", "txt"])
def test_save_writes_the_trace(capsys, tmp_path, suffix):
    path = tmp_path / f"trace.{suffix}"
    code, _, err = run_cli(capsys, "--phase", "forward", "--save", str(path))
    assert code == 0 and str(path) in err
    content = path.read_text(encoding="utf-8").replace("&#160;", " ")
    assert "h = max(u, 0)" in content and "y = x + delta" in content


@pytest.mark.parametrize("target, message", [
    ("no_such_module_here:f", "no module named"),
    ("tinygrad_edu.commands.demo", "module:function"),
    ("tinygrad_edu.commands.demo:nothing", "has no function 'nothing'"),
    ("missing/file.py:f", "no file"),
])
def test_bad_targets_are_usage_errors(capsys, target, message):
    code, out, err = run_cli(capsys, target)
    assert code == 2 and message in err and out == ""


def test_a_failing_student_function_shows_its_error(capsys, student_file):
    code, _, err = run_cli(capsys, f"{student_file}:broken")
    assert code == 1
    assert "Traceback" in err and "raised an error" in err and "matmul" in err.lower()


def test_a_file_target_missing_its_function_lists_what_is_there(capsys, student_file):
    code, _, err = run_cli(capsys, f"{student_file}:neurons")
    assert code == 2 and "neuron" in err and "broken" in err


@pytest.mark.parametrize("argv", [["--save", "trace.png"], ["--width", "10"], ["--width", "wide"],
                                  ["--phase", "sideways"]])
def test_bad_options_print_usage_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(["trace", *argv])
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err
