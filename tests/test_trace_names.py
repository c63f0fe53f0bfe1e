"""Names in a trace of a student's own function: its variables and arguments, W.T, the numbers it wrote."""
import re
import textwrap

import pytest

import tinygrad_edu as tg
from tinygrad_edu import trace
from tinygrad_edu.cli import main
from tinygrad_edu.trace.target import run_target

STUDENT_FILE = '''
import tinygrad_edu as tg
from tinygrad_edu import nn


def step():
    x = tg.tensor([[1.0, 2.0, 3.0]])
    W = tg.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, -0.6]], requires_grad=True)
    b = tg.tensor([0.0, 1.0], requires_grad=True)
    h = x @ W.T + b
    a = h.relu()
    target = tg.tensor([[1.0, 0.0]])
    loss = ((a - target) ** 2).mean()
    return loss


def layer():
    model = nn.Linear(3, 2)
    x = tg.tensor([[1.0, 2.0, 3.0]])
    out = model(x)
    return out.sum()
'''


@pytest.fixture
def student_file(tmp_path):
    path = tmp_path / "my_step.py"
    path.write_text(textwrap.dedent(STUDENT_FILE), encoding="utf-8")
    return path


def names_in(tape):
    return list(dict.fromkeys(s.name for e in tape for s in e.snapshots()))


def test_a_students_file_reads_with_its_own_variable_names(capsys, student_file):
    assert main(["trace", f"{student_file}:step", "--width", "120"]) == 0
    out = capsys.readouterr().out
    for line in ("W.T = permute(W, (1, 0))", "h = t1 + b", "t1 = x @ W.T", "a = max(h, 0)",
                 "t2 = a − target", "t3 = t2 ** 2", "loss = t4 / 2", "∂L/∂W = permute(∂L/∂W.T, (1, 0)⁻¹)"):
        assert line in out, line
    # only the intermediate results nobody named keep a t-number, numbered in order
    assert sorted(set(re.findall(r"\bt(\d+)\b", out)), key=int) == ["1", "2", "3", "4"]


def test_a_module_held_in_a_variable_names_its_parameters(capsys, student_file):
    assert main(["trace", f"{student_file}:layer", "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "model.weight.T" in out and "model.bias" in out and "out = t1 + model.bias" in out


def test_a_name_bound_to_several_values_numbers_them_in_order():
    def loop():
        x = tg.tensor([1.0, -2.0], requires_grad=True)
        h = x * 3
        h = h.relu()
        h = h + 1
        return h.sum()

    tape = run_target(loop).tape
    formulas = [e.bound_formula() for e in tape.forward]
    assert formulas == ["h₁ = x ⊙ 3", "h₂ = max(h₁, 0)", "h₃ = h₂ + 1", "t1 = Σ h₃ over axes (0,)"]


def test_names_given_in_code_win_over_variable_names():
    def named():
        x = tg.tensor([1.0, 2.0]).named("inputs")
        w = tg.tensor([0.5, 0.25], requires_grad=True)
        prod = (x * w).named("product")
        return prod.sum()

    names = names_in(run_target(named).tape)
    assert names[:3] == ["inputs", "w", "product"]


def test_only_the_traced_functions_own_variables_name_tensors():
    def helper(a):
        inner = a * 2
        return inner + 1

    def outer():
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = helper(x)
        return y.sum()

    formulas = [e.bound_formula() for e in run_target(outer).tape.forward]
    assert formulas == ["t1 = x ⊙ 2", "y = t1 + 1", "t2 = Σ y over axes (0,)"]


def test_record_names_from_a_function_and_without_it_keeps_short_names():
    def f():
        weights = tg.tensor([1.0, 2.0], requires_grad=True)
        return (weights * weights).sum()

    with trace.record(names_from=f) as tape:
        f()
    assert "weights" in names_in(tape)
    with trace.record() as tape:
        f()
    assert "weights" not in names_in(tape)
    with pytest.raises(TypeError, match="names_from"):
        trace.record(names_from=3).__enter__()


def test_the_readme_and_the_help_say_how_tensors_are_named(capsys):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    paragraph = next(p for p in readme.split("\n\n") if "trace my_file.py:my_function" in p)
    assert ".named(" in paragraph and "variable" in paragraph and "W.T" in paragraph
    with pytest.raises(SystemExit):
        main(["trace", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "variable" in help_text and ".named(" in help_text


def test_any_callable_can_be_traced_functions_and_methods_give_names():
    import functools

    def scaled(factor):
        weights = tg.tensor([1.0, 2.0], requires_grad=True)
        return (weights * factor).sum()

    class Model:
        def loss(self):
            weights = tg.tensor([1.0, 2.0], requires_grad=True)
            return (weights * 3).sum()

    assert "weights" not in names_in(run_target(functools.partial(scaled, 2.0)).tape)   # short names, no error
    assert "weights" in names_in(run_target(Model().loss).tape)
