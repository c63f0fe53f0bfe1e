"""The course works: fresh stubs fail with "not implemented", the reference solutions pass every check on both
backends, typical wrong answers are caught each with its hint, and a broken file stays in its own row."""
from __future__ import annotations

import ast
import importlib
import re
import shutil
from pathlib import Path

import pytest

import tinygrad_edu as tg
from tinygrad_edu.exercises import EXERCISES
from tinygrad_edu.exercises.checking import available_backends, check_statement, CheckFailed
from tinygrad_edu.exercises.runner import check_file
from tinygrad_edu.exercises.workspace import solution_text, stub_text

PACKAGE = Path(tg.__file__).parent / "exercises"
VARIANTS = Path(__file__).parent / "exercise_variants"
IDS = [f"{ex.number:02d}-{ex.slug}" for ex in EXERCISES]


EX = {ex.slug: ex for ex in EXERCISES}


# ---- the course as a whole --------------------------------------------------------------------------------
def test_at_least_twelve_exercises_numbered_in_lesson_order():
    assert len(EXERCISES) >= 12
    assert [ex.number for ex in EXERCISES] == list(range(1, len(EXERCISES) + 1))
    lessons = [ex.lesson for ex in EXERCISES]
    assert lessons == sorted(lessons)
    assert len({ex.filename for ex in EXERCISES}) == len(EXERCISES)


def test_the_issue_s_exercises_are_all_there():
    titles = " | ".join(ex.title.lower() for ex in EXERCISES)
    for topic in ("mul backward", "exp and log", "broadcast", "sum over a dim", "matmul", "relu", "backward walk",
                  "softmax", "michael jordan", "linear and the mlp block", "sgd with momentum, adam",
                  "superposition"):
        assert topic in titles, topic


def test_numpy_is_there_so_both_backends_are_checked():
    assert available_backends() == ("python", "numpy")


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_stub_and_solution_files_ship_with_the_package(exercise):
    assert (PACKAGE / "stubs" / exercise.filename).read_text(encoding="utf-8") == stub_text(exercise)
    assert (PACKAGE / "solutions" / exercise.filename).read_text(encoding="utf-8") == solution_text(exercise)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_each_stub_says_what_to_write_the_math_the_hints_the_lesson_and_its_number(exercise):
    text = stub_text(exercise)
    doc = ast.get_docstring(ast.parse(text))
    assert doc.startswith(f"Exercise {exercise.number} · {exercise.title}")
    assert f"lesson {exercise.lesson} ·" in doc.splitlines()[0]
    assert "The math" in doc and "Hints" in doc and "Read" in doc
    assert f"tinygrad-edu exercise check {exercise.number}" in doc
    raised = re.findall(r'raise NotImplementedError\("([^"]*)"\)', text)
    assert raised and all(message.startswith(f"exercise {exercise.number}: ") for message in raised)


def _lesson_word(exercise) -> str:
    """The word of the lesson's file name that the stub's Read line gives to `tinygrad-edu tutorial`."""
    return re.search(r"tinygrad-edu tutorial ([a-z]+)", stub_text(exercise)).group(1)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_each_stub_points_at_its_lesson_by_the_lesson_s_planned_number(exercise):
    from tinygrad_edu import tutorials

    word = _lesson_word(exercise)
    found = [lesson for lesson in tutorials.lessons() if word in lesson.slug]
    assert len(found) == 1, f"`tinygrad-edu tutorial {word}` must name exactly one lesson"
    plan = (Path(tutorials.tutorials_dir()) / "README.md").read_text(encoding="utf-8")
    numbers = {slug: int(n) for n, slug in re.findall(r"^\| (\d+) \| \[[^]]*\]\(\d+_([a-z_]+)\.md\)", plan, re.M)}
    assert numbers[found[0].slug] == exercise.lesson


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_each_lesson_names_the_course_exercises_that_check_it(exercise):
    from tinygrad_edu import tutorials

    lesson = next(lesson for lesson in tutorials.lessons() if _lesson_word(exercise) in lesson.slug)
    section = lesson.text.split("## Exercises", 1)[1]
    link = re.search(r"Solve and have (?:it|them) checked: course exercises? (\d+)(?:(–| and )(\d+))?", section)
    assert link, f"{lesson.path.name} does not name its course exercises"
    first, joint, last = link.groups()
    named = range(int(first), int(last) + 1) if joint == "–" else {int(first), int(last or first)}
    assert exercise.number in named


def test_the_given_training_loop_of_the_superposition_stub_is_the_reference_s():
    def train_source(text):
        tree = ast.parse(text)
        train = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "train")
        return [ast.dump(statement) for statement in train.body[1:]]      # after the docstring

    ex = EX["superposition"]
    assert train_source(stub_text(ex)) == train_source(solution_text(ex))


# ---- stubs, solutions --------------------------------------------------------------------------------------
@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_every_fresh_stub_fails_with_not_implemented_and_nothing_else(exercise):
    result = check_file(exercise, PACKAGE / "stubs" / exercise.filename)
    assert (result.status, result.kind) == ("not started", "not-implemented"), result.failure
    assert result.failure.startswith("not implemented: ")
    assert exercise.filename in result.hint
    assert {status for _, status in result.steps} <= {"passed", "not run"}
    assert result.output == ""


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_the_reference_solution_passes_every_check_on_both_backends(exercise):
    result = check_file(exercise, PACKAGE / "solutions" / exercise.filename, backends=("python", "numpy"))
    assert result.status == "passed", f"{result.failure} | {result.hint}"
    assert [status for _, status in result.steps] == ["passed"] * len(exercise.steps)
    assert result.output == ""


# ---- wrong answers -----------------------------------------------------------------------------------------
def _hint(number: int, name: str) -> str:
    ex = next(ex for ex in EXERCISES if ex.number == number)
    return getattr(importlib.import_module(f"tinygrad_edu.exercises.checks.ex{number:02d}_{ex.slug}"), name)


WRONG_ANSWERS = {
    "ex13_strides__column_major.py": "COLUMN_MAJOR",
    "ex13_strides__inverse_order.py": "INVERSE_ORDER",
    "ex01_mul__swapped.py": "SWAPPED",
    "ex01_mul__sign.py": "SIGN",
    "ex02_exp_log__exp_times_x.py": "EXP_TIMES_X",
    "ex02_exp_log__log_times_x.py": "LOG_TIMES_X",
    "ex02_exp_log__log_sign.py": "LOG_SIGN",
    "ex03_unbroadcast__stretched_axes.py": "STRETCHED",
    "ex03_unbroadcast__leading_axes.py": "LEADING",
    "ex03_unbroadcast__mean.py": "MEAN",
    "ex04_sum_dim__no_reinsert.py": "REINSERT",
    "ex04_sum_dim__mean.py": "MEAN",
    "ex06_backward_walk__recursive.py": "RECURSIVE",
    "ex06_backward_walk__visited_on_push.py": "VISITED_ON_PUSH",
    "ex06_backward_walk__no_accumulate.py": "NO_ACCUMULATE",
    "ex05_matmul__no_transpose.py": "TRANSPOSE_X",
    "ex05_matmul__no_transpose_of_x.py": "TRANSPOSE_Y",
    "ex07_relu__kink.py": "KINK",
    "ex07_relu__no_grad.py": "NO_GRAD",
    "ex08_modules__no_transpose.py": "NO_TRANSPOSE",
    "ex08_modules__no_residual.py": "NO_RESIDUAL",
    "ex08_modules__plain_tensor_bias.py": "NOT_PARAMETER",
    "ex08_modules__weight_layout.py": "LAYOUT",
    "ex09_michael_jordan__bias_on_the_kink.py": "KINK",
    "ex09_michael_jordan__row_michael_only.py": "ROW_BOTH",
    "ex09_michael_jordan__column_sign.py": "SIGN",
    "ex09_michael_jordan__column_scale.py": "SCALE",
    "ex10_optimizers__sgd_sign.py": "SIGN",
    "ex10_optimizers__no_state.py": "NO_STATE",
    "ex10_optimizers__no_bias_correction.py": "NO_BIAS_CORRECTION",
    "ex11_superposition__no_relu.py": "NO_RELU",
    "ex11_superposition__negative_cosine.py": "NEGATIVE_ONLY",
    "ex11_superposition__unrepresented.py": "UNREPRESENTED",
    "ex11_superposition__last_not_first.py": "FIRST",
    "ex14_silu__product_rule.py": "PRODUCT_RULE",
    "ex12_softmax_ce__overflow.py": "OVERFLOW",
    "ex12_softmax_ce__log_of_softmax.py": "LOG_UNDERFLOW",
    "ex12_softmax_ce__sign.py": "SIGN",
}


def test_every_variant_file_is_listed_and_every_exercise_has_a_wrong_answer():
    assert sorted(p.name for p in VARIANTS.glob("ex*.py")) == sorted(WRONG_ANSWERS)
    assert {int(name[2:4]) for name in WRONG_ANSWERS} == {ex.number for ex in EXERCISES}


@pytest.mark.parametrize("variant", sorted(WRONG_ANSWERS))
def test_a_typical_wrong_answer_is_caught_with_its_hint(variant):
    number = int(variant[2:4])
    result = check_file(next(ex for ex in EXERCISES if ex.number == number), VARIANTS / variant)
    assert (result.status, result.kind) == ("failed", "wrong"), result.failure
    assert result.failure and "not implemented" not in result.failure
    assert result.hint == _hint(number, WRONG_ANSWERS[variant]), result.failure


def test_the_issue_s_typical_mistakes_are_among_them():
    hints = {name.split("__")[1].removesuffix(".py") for name in WRONG_ANSWERS}
    for mistake in ("no_transpose", "stretched_axes", "sign", "kink", "recursive", "overflow", "bias_on_the_kink"):
        assert mistake in hints, mistake


def test_a_gradcheck_failure_names_the_input_the_element_and_both_values():
    result = check_file(EX["mul"], VARIANTS / "ex01_mul__swapped.py")
    assert re.search(r"input \d \([xy]\) \(shape .*\), element .*: analytic .*, numeric ", result.failure)
    assert "python backend" in result.failure


# ---- broken files --------------------------------------------------------------------------------------------
BROKEN = {
    "syntax error": ("def sum_to_shape(grad, shape)\n    return grad\n", "is not valid Python", "line 1"),
    "import error": ("import tinygrad_edu_does_not_exist\n", "could not import tinygrad_edu_does_not_exist", ""),
    "error while loading": ("x = 1 / 0\n", "raised ZeroDivisionError while loading", "line 1"),
    "wrong return type": ("def sum_to_shape(grad, shape):\n    return grad.tolist()\n", "returned list", ""),
    "tensor returned": ("import tinygrad_edu as tg\n\ndef sum_to_shape(grad, shape):\n    return tg.Tensor(grad)\n",
                        "returned a Tensor", ""),
    "no such function": ("def sum_to_shape_of(grad, shape):\n    return grad\n", "defines no sum_to_shape", ""),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_reported_in_its_row_not_as_a_traceback(case, tmp_path):
    source, words, where = BROKEN[case]
    path = tmp_path / EX["unbroadcast"].filename
    path.write_text(source, encoding="utf-8")
    result = check_file(EX["unbroadcast"], path)
    assert result.status == "failed"
    assert words in result.failure and where in result.failure
    assert "Traceback" not in result.failure


def test_an_op_that_returns_the_wrong_things_is_told_so(tmp_path):
    path = tmp_path / EX["mul"].filename
    stub = stub_text(EX["mul"])
    path.write_text(stub.replace(f'raise NotImplementedError("exercise {EX["mul"].number}: write Mul.forward")',
                                 "return [1.0]"), encoding="utf-8")
    result = check_file(EX["mul"], path)
    assert result.failure.startswith("Mul.forward returned list; it must return a backend array")
    path.write_text(solution_text(EX["mul"]).replace("return grad * y, grad * x", "return grad * y"),
                    encoding="utf-8")
    result = check_file(EX["mul"], path)
    assert "must return a tuple of 2 gradients" in result.failure


def test_a_file_that_patches_the_framework_fails_and_the_framework_is_put_back(tmp_path):
    original = tg.Tensor.__mul__
    path = tmp_path / EX["mul"].filename
    path.write_text(solution_text(EX["mul"]) + "\nimport tinygrad_edu as tg\ntg.Tensor.__mul__ = lambda a, b: a\n",
                    encoding="utf-8")
    result = check_file(EX["mul"], path)
    assert result.kind == "changed-framework" and "tinygrad_edu.tensor.Tensor.__mul__" in result.failure
    assert tg.Tensor.__mul__ is original and (tg.tensor(2.0) * 3.0).item() == 6.0
    assert check_file(EX["unbroadcast"], PACKAGE / "solutions" / EX["unbroadcast"].filename).passed


def test_a_file_that_leaves_grad_mode_off_or_another_backend_on_changes_nothing_for_the_next(tmp_path):
    path = tmp_path / EX["strides"].filename
    path.write_text(solution_text(EX["strides"]) + "\nimport tinygrad_edu as tg\ntg.set_backend('numpy')\n"
                    "tg.no_grad().__enter__()\n", encoding="utf-8")
    before = tg.get_backend()
    check_file(EX["strides"], path)
    assert tg.get_backend() == before and tg.is_grad_enabled()


def test_a_student_s_file_cannot_shadow_a_module_nor_stay_importable(tmp_path):
    for name in ("numpy.py", "tinygrad_edu.py", "hypothesis.py"):
        (tmp_path / name).write_text("raise RuntimeError('shadowed')\n", encoding="utf-8")
    shutil.copy(PACKAGE / "solutions" / EX["matmul"].filename, tmp_path / EX["matmul"].filename)
    import sys
    before = set(sys.modules)
    assert check_file(EX["matmul"], tmp_path / EX["matmul"].filename).passed
    assert not [m for m in set(sys.modules) - before if m.startswith("_tinygrad_edu_exercise")]
    assert str(tmp_path) not in sys.path
    assert not (tmp_path / "__pycache__").exists()


def test_code_that_runs_too_long_is_stopped(tmp_path):
    path = tmp_path / EX["strides"].filename
    path.write_text("def row_major_strides(shape):\n    while True:\n        pass\n", encoding="utf-8")
    result = check_file(EX["strides"], path, timeout=0.5)
    assert result.kind == "timeout" and "too long" in result.failure


def test_what_the_student_s_code_prints_is_kept_apart(tmp_path):
    path = tmp_path / EX["strides"].filename
    path.write_text(solution_text(EX["strides"]).replace("def permuted(", "print('hello from the student')\n\n\n"
                                                                       "def permuted("), encoding="utf-8")
    result = check_file(EX["strides"], path)
    assert result.passed and "hello from the student" in result.output


def test_a_missing_file_is_not_started(tmp_path):
    result = check_file(EX["exp_log"], tmp_path / EX["exp_log"].filename)
    assert (result.status, result.kind) == ("not started", "missing")


# ---- the formula form ------------------------------------------------------------------------------------------
class _Op(tg.Function):
    formula = "{z} = {x} ⊙ {y}"
    derivative = "∂L/∂{x} = ∂L/∂{z} ⊙ {y};  ∂L/∂{y} = ∂L/∂{z} ⊙ {x}"


@pytest.mark.parametrize("formula, derivative, words", [
    ("{z} = {x} ⊙ {y}", "", "derivative is empty"),
    ("", "∂L/∂{x} = 1", "formula is empty"),
    ("{z} = {x} ⊙ {w}", "∂L/∂{x} = 1;  ∂L/∂{y} = 1", "uses {w}"),
    ("{z} = {x} ⊙ {y}", "∂L/∂{x} = ∂L/∂{z} ⊙ {y}", "no clause for {y}"),
    ("{z} = {x} ⊙ {y:X}", "∂L/∂{x} = 1;  ∂L/∂{y} = 1", "unknown spec"),
    ("z = {x} ⊙ {y}", "∂L/∂{x} = 1;  ∂L/∂{y} = 1", "must start with the output's symbol"),
    ("{z} = {x ⊙ {y}", "∂L/∂{x} = 1;  ∂L/∂{y} = 1", "not a valid template"),
])
def test_a_student_op_states_its_formula_in_the_decided_form(formula, derivative, words):
    check_statement(_Op, ("x", "y"))
    op = type("Op", (_Op,), {"formula": formula, "derivative": derivative})
    with pytest.raises(CheckFailed, match=re.escape(words)):
        check_statement(op, ("x", "y"))


def test_the_transpose_spec_and_options_are_allowed():
    op = type("MatMulLike", (tg.Function,), {"formula": "{Z} = {X} @ {Y} over {dim}",
                                             "derivative": "∂L/∂{X} = ∂L/∂{Z} @ {Y:T};  ∂L/∂{Y} = {X:T} @ ∂L/∂{Z}"})
    check_statement(op, ("X", "Y"), ("dim",))


def test_a_normal_install_carries_the_stubs_solutions_and_checks():
    """The course's files are Python modules in packages that pyproject names, so a wheel (not only an
    editable install) has them."""
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    installed = set(config["tool"]["setuptools"]["packages"])
    for package in ("tinygrad_edu.exercises", "tinygrad_edu.exercises.stubs", "tinygrad_edu.exercises.solutions",
                    "tinygrad_edu.exercises.checks"):
        assert package in installed
        assert (root / package.replace(".", "/") / "__init__.py").exists()
