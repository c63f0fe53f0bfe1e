"""`tinygrad-edu trace` says what was wrong with what a student's function returned, and does not blame
the function for what the trace ran after it returned."""
import textwrap

import pytest

from tinygrad_edu.cli import main

STUDENT = '''
import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def loss_tensor():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    return (w * w).sum()


class BrokenOptimizer:
    def step(self):
        raise RuntimeError("this optimizer cannot step")


def returns_a_number():
    loss_tensor()
    return {"loss": 5}


def returns_a_word_as_optimizer():
    return {"loss": loss_tensor(), "optimizer": "sgd"}


def returns_a_number_as_modules():
    return {"loss": loss_tensor(), "modules": 5}


def returns_a_number_inside_modules():
    return {"loss": loss_tensor(), "modules": {"block": nn.Linear(2, 2), "head": 3}}


def returns_a_number_as_directions():
    return {"loss": loss_tensor(), "directions": 7}


def returns_an_optimizer_that_fails():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    return {"loss": (w * w).sum(), "optimizer": BrokenOptimizer()}


def returns_a_good_dict():
    block = nn.Linear(2, 1, seed=0)
    loss = block(tg.tensor([[1.0, 2.0]])).sum()
    return {"loss": loss, "modules": {"block": block}, "optimizer": optim.SGD(block.named_parameters(), lr=0.1)}
'''


@pytest.fixture
def student(tmp_path):
    path = tmp_path / "student_code.py"
    path.write_text(textwrap.dedent(STUDENT))
    return path


def trace(capsys, student, function):
    code = main(["trace", f"{student}:{function}"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("function, message", [
    ("returns_a_number", 'returned {\'loss\': 5}: "loss" must be a Tensor (the loss to backpropagate), got int'),
    ("returns_a_word_as_optimizer", '"optimizer" must be an optimizer such as optim.SGD(...) (with a step() '
                                    'method), got str'),
    ("returns_a_number_as_modules", '"modules" must be a Module or a dict {"name": module}, got int'),
    ("returns_a_number_inside_modules", '"modules" must hold Modules, but head is not one'),
    ("returns_a_number_as_directions", '"directions" must be a Directions (or a mapping name -> vector), got int'),
])
def test_a_bad_return_value_is_named(capsys, student, function, message):
    code, out, err = trace(capsys, student, function)
    assert code == 2
    assert message in err
    assert "ran no" not in err and "Traceback" not in err
    assert "raised an error" not in err


def test_a_failing_optimizer_is_not_blamed_on_the_function(capsys, student):
    code, out, err = trace(capsys, student, "returns_an_optimizer_that_fails")
    assert code == 1
    assert "this optimizer cannot step" in err
    assert "returns_an_optimizer_that_fails returned, then the returned optimizer's step() raised an error" in err
    assert "the traced function" not in err


def test_a_good_dict_still_traces_forward_backward_and_update(capsys, student):
    code, out, err = trace(capsys, student, "returns_a_good_dict")
    assert code == 0, err
    assert "block.weight" in out
