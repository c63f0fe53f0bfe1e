"""`tinygrad-edu tutorial`: the list says which lessons need an extra, and a lesson whose extra is missing
says how to install it instead of ending in a traceback."""
import subprocess
import sys

import pytest

from tinygrad_edu import tutorials
from tinygrad_edu.cli import main
from tinygrad_edu.commands.tutorial import needed_extras


def _lessons_needing(extra):
    return [lesson for lesson in tutorials.lessons() if extra in {e for _, e in needed_extras(lesson)}]


def test_lessons_that_switch_to_numpy_are_found():
    numpy_lessons = _lessons_needing("numpy")
    assert numpy_lessons, "some lessons run blocks on the NumPy backend"
    for lesson in numpy_lessons:
        assert any('"numpy"' in block.code or "'numpy'" in block.code or "import numpy" in block.code
                   for block in lesson.blocks)
    plain = [lesson for lesson in tutorials.lessons() if lesson not in numpy_lessons]
    for lesson in plain:
        assert not any('"numpy"' in block.code for block in lesson.blocks)


@pytest.mark.parametrize("width", [80, 120])
def test_the_list_names_each_lessons_extras_at_80_and_120_columns(capsys, width):
    assert main(["tutorial", "--width", str(width)]) == 0
    out = capsys.readouterr().out
    assert "needs" in out and 'pip install -e ".[' in out
    for line in out.splitlines():
        assert len(line.rstrip()) <= width and "…" not in line
    for lesson in _lessons_needing("numpy"):
        row = next(line for line in out.splitlines() if lesson.path.name in line)
        assert "numpy" in row


def _run_without(module, *argv):
    """The command in a fresh Python in which ``import module`` fails, as when it is not installed."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from tinygrad_edu.cli import main\n"
            f"sys.exit(main({list(argv)!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_running_a_numpy_lesson_without_numpy_says_how_to_install_it():
    lesson = _lessons_needing("numpy")[-1]
    done = _run_without("numpy", "tutorial", str(lesson.number), "--run", "--no-pause")
    assert done.returncode == 1, done.stderr
    assert f"lesson {lesson.number} needs numpy, which is not installed" in done.stderr
    assert '-m pip install -e ".[numpy]"' in done.stderr and 'pip install "tinygrad-edu[numpy]"' in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "block 1/" not in done.stdout           # refused before the first block


def test_the_list_marks_what_is_not_installed():
    done = _run_without("numpy", "tutorial", "--width", "120")
    assert done.returncode == 0, done.stderr
    assert "numpy (not installed)" in done.stdout


def test_tutorial_width_must_be_at_least_40_columns(capsys):
    with pytest.raises(SystemExit) as info:
        main(["tutorial", "--width", "-5"])
    assert info.value.code == 2
    assert "expected at least 40 columns, got -5" in capsys.readouterr().err
