"""Lessons as Jupyter notebooks, run on a real kernel; `train`'s progress in a notebook without ipywidgets.

The notebook files are checked without any Jupyter package. Running them needs nbclient and ipykernel
(``pip install "tinygrad-edu[notebook]"``); those tests skip cleanly without them.
"""
from __future__ import annotations

import json
import os
import sys

import pytest

from tinygrad_edu import tutorials
from tinygrad_edu.cli import main
from tinygrad_edu.notebook import lesson_notebook, write_notebook

LESSONS = tutorials.lessons()


def lesson_id(lesson) -> str:
    return lesson.path.name


def joined(cell) -> str:
    return "".join(cell["source"])


# ---- the notebook files --------------------------------------------------------------------------
@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_a_lesson_becomes_its_text_and_code_cells_in_order(lesson):
    notebook = lesson_notebook(lesson)
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] >= 5
    cells = notebook["cells"]
    code = [joined(c) for c in cells if c["cell_type"] == "code"]
    assert code == [block.code for block in lesson.blocks]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")
    # Text and code alternate as in the file: every block's prose sits right before its code.
    position = 0
    for block in lesson.blocks:
        while joined(cells[position]) != block.code:
            position += 1
        if block.prose.strip():
            assert cells[position - 1]["cell_type"] == "markdown" and joined(cells[position - 1]) == block.prose
    assert joined(cells[0]).startswith("# "), "the lesson's title opens the notebook"
    if lesson.closing.strip():
        assert cells[-1]["cell_type"] == "markdown" and joined(cells[-1]) == lesson.closing
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids)
    # Nothing lost, nothing moved: the cells' lines, read in order, are the lesson's lines without the
    # ```python fences and the ```output blocks (blank lines aside).
    in_cells = [line for cell in cells for line in joined(cell).splitlines() if line.strip()]
    assert in_cells == lesson_lines_without_output(lesson)


def lesson_lines_without_output(lesson) -> list:
    lines = lesson.text.splitlines()
    dropped = set()
    for block in lesson.blocks:
        first = block.line - 1                       # index of the block's first line of code
        dropped.update({first - 1, first + len(block.code.splitlines())})        # its two fences
        if block.expected_line is not None:
            start = block.expected_line - 1
            dropped.update(range(start - 1, start + len(block.expected.splitlines()) + 1))
    return [line for i, line in enumerate(lines) if i not in dropped and line.strip()]


def test_the_notebook_is_valid_for_nbformat(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    for lesson in LESSONS:
        path = write_notebook(lesson, tmp_path / f"{lesson.number}.ipynb")
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)


def test_tutorial_notebook_writes_the_file_and_says_where(tmp_path, capsys):
    out = tmp_path / "lesson3.ipynb"
    assert main(["tutorial", "3", "--notebook", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "lesson 3" in printed
    notebook = json.loads(out.read_text(encoding="utf-8"))
    lesson = next(lesson for lesson in LESSONS if lesson.number == 3)
    assert notebook == lesson_notebook(lesson)


@pytest.mark.parametrize("argv, message", [
    (["tutorial", "3", "--notebook", "lesson.md"], "ends in .ipynb"),
    (["tutorial", "3", "--notebook", "/no/such/folder/x.ipynb"], "does not exist"),
])
def test_a_bad_notebook_name_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_notebook_without_a_lesson_is_a_usage_error(capsys, tmp_path):
    assert main(["tutorial", "--notebook", str(tmp_path / "x.ipynb")]) == 2
    assert "--notebook needs a lesson" in capsys.readouterr().err


# ---- running them on a real kernel ------------------------------------------------------------------
def execute(notebook: dict, folder, timeout: int = 600):
    """Run every cell on a fresh python3 kernel (errors are collected, not raised); returns the notebook."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    node = nbformat.reads(json.dumps(notebook), as_version=4)     # as from the file: sources joined
    client = nbclient.NotebookClient(node, timeout=timeout, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute(env=kernel_environment())
    return node


def kernel_environment() -> dict:
    """The kernel runs this Python, with this checkout first on its path, as the tests do."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def problems(notebook) -> list:
    """Every error output, and anything written to stderr, with the cell it came from."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = "\n".join(output.get("traceback", []))
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}\n{trace}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"cell {index} wrote to stderr: {output['text']}")
    return found


@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_every_lesson_notebook_runs_on_a_jupyter_kernel_without_errors(lesson, tmp_path):
    notebook = execute(lesson_notebook(lesson), tmp_path)
    assert not problems(notebook), f"{lesson.path.name} as a notebook:\n" + "\n\n".join(problems(notebook))
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(ran) == len(lesson.blocks) and all(cell.execution_count for cell in ran)


def test_a_failing_cell_is_found():
    """The check above can fail: a cell that raises is reported with its error."""
    notebook = {"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": ["import tinygrad_edu as tg\n", "tg.tensor([1.0]) @ tg.tensor([[1.0], [2.0]])"]}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    found = problems(execute(notebook, os.getcwd()))
    assert len(found) == 1 and "cell 0" in found[0] and "matmul" in found[0].lower()


def test_train_shows_its_progress_in_a_notebook_without_ipywidgets(tmp_path):
    if "ipywidgets" in sys.modules or _importable("ipywidgets"):
        pytest.skip("ipywidgets is installed: Rich draws its own progress widget then")
    code = 'from tinygrad_edu.cli import main\nmain(["train", "moons", "--steps", "40"])'
    notebook = {"cells": [{"cell_type": "code", "id": "train", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": code}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    node = execute(notebook, tmp_path)
    assert not problems(node), "\n".join(problems(node))        # no "install ipywidgets" warning either
    outputs = node.cells[0].outputs
    bars = [o for o in outputs if o.output_type == "display_data" and "train moons" in o.data.get("text/plain", "")]
    assert len(bars) == 1, "one progress output, updated in place"
    bar = bars[0].data
    assert "40/40" in bar["text/plain"] and "loss" in bar["text/plain"]
    assert "<pre" in bar["text/html"] and "40/40" in bar["text/html"]
    shown = json.dumps([o.get("data", {}) for o in outputs], ensure_ascii=False)
    assert "the decision boundary" in shown, "the results follow the bar"


def _importable(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is not None
