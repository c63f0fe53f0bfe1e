"""The install puts nothing under a generic top-level name: the repository's models/ and benchmarks/
folders are the packages tinygrad_edu.models and tinygrad_edu.benchmarks, so a student's own
models.py (or benchmarks.py) beside their work changes nothing."""
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERIC = ("models", "benchmarks")


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")      # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_maps_models_and_benchmarks_into_the_package_and_lists_every_package():
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"tinygrad_edu.models": "models", "tinygrad_edu.benchmarks": "benchmarks"}
    in_tree = set()
    for folder, prefix in [("tinygrad_edu", ()), ("models", ("tinygrad_edu",)), ("benchmarks", ("tinygrad_edu",))]:
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                in_tree.add(".".join(prefix + init.parent.relative_to(ROOT).parts))
    listed = set(setuptools["packages"])
    assert listed == in_tree, f"missing from pyproject: {sorted(in_tree - listed)}; not in the tree: {sorted(listed - in_tree)}"
    assert all(name == "tinygrad_edu" or name.startswith("tinygrad_edu.") for name in listed)


def test_no_code_or_lesson_imports_a_generic_top_level_package():
    pattern = re.compile(r"^\s*(from|import)\s+(models|benchmarks)\b", re.M)
    offenders = []
    for path in [*ROOT.glob("tinygrad_edu/**/*.py"), *ROOT.glob("models/*.py"), *ROOT.glob("benchmarks/*.py"),
                 *ROOT.glob("tests/*.py"), *ROOT.glob("tutorials/**/*.py"), *ROOT.glob("tutorials/*.md")]:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8")[:match.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, "import tinygrad_edu.models / tinygrad_edu.benchmarks instead: " + ", ".join(offenders)


def test_the_wheel_holds_only_tinygrad_edu(tmp_path):
    """A normal install (pip install .) puts tinygrad_edu, its .dist-info and its data (the lessons) there."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 ".hypothesis", ".pytest_cache"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "wheel"), str(source)], capture_output=True, text=True, timeout=600)
    if built.returncode != 0 and "No module named pip" in built.stderr:
        pytest.skip("pip is not available")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.startswith("tinygrad_edu")} == set(), top
    assert "tinygrad_edu/models/michael_jordan.py" in names and "tinygrad_edu/benchmarks/suite.py" in names
    assert not any(t in GENERIC for t in top)


@pytest.fixture
def students_folder(tmp_path):
    """A student's folder with their own models.py and benchmarks.py, which must never be imported."""
    for name in GENERIC:
        (tmp_path / f"{name}.py").write_text(f"raise RuntimeError('the student\\'s own {name}.py was imported')\n")
    (tmp_path / "mine.py").write_text(
        "import tinygrad_edu as tg\n\n\ndef run():\n"
        "    w = tg.tensor([1.0, 2.0], requires_grad=True).named('w')\n"
        "    return (w * w).sum().named('loss')\n")
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["train", "mlp-block", "--steps", "1", "--set", "d_model=4", "--set", "d_hidden=8", "--json"],
    ["trace", "mine.py:run", "--width", "80"],
    ["show", "michael-jordan", "--exact-only", "--json"],
    ["bench", "--help"],
])
def test_a_students_own_models_py_changes_nothing(students_folder, argv):
    """python -m puts the current folder first on sys.path, as a student's script does."""
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", *argv], cwd=students_folder, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "was imported" not in done.stderr + done.stdout
