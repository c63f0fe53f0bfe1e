"""A student's workspace: one file per exercise, copied from the stubs, never overwritten by accident.

    start(folder)              writes every stub that is not there yet; keeps every file that is
    reset(folder, exercise)    puts a fresh stub back (the student's version is kept as FILE.bak)
    write_solutions(folder)    the reference solutions, for a teacher (kept files are never replaced)
    status(folder, exercise)   "not started", "missing", or the last check's verdict ("edited since")

The last check's results are kept in the workspace (``.tinygrad-edu-results.json``), so that ``list``
can show them without running the checks again.
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

from .checking import Exercise
from .course import EXERCISES

__all__ = ["DEFAULT_WORKSPACE", "DEFAULT_SOLUTIONS", "RESULTS_FILE", "stub_text", "solution_text", "start",
           "reset", "write_solutions", "status", "save_results", "is_workspace"]

DEFAULT_WORKSPACE = "tinygrad-edu-exercises"
DEFAULT_SOLUTIONS = "tinygrad-edu-solutions"
RESULTS_FILE = ".tinygrad-edu-results.json"
README = "README.md"


def stub_text(exercise: Exercise) -> str:
    """The stub of ``exercise`` as shipped with the package."""
    return resources.files(__package__).joinpath("stubs").joinpath(exercise.filename).read_text(encoding="utf-8")


def solution_text(exercise: Exercise) -> str:
    """The reference solution of ``exercise`` as shipped with the package."""
    return resources.files(__package__).joinpath("solutions").joinpath(exercise.filename).read_text(encoding="utf-8")


def _readme(title: str, what: str) -> str:
    lines = [f"# {title}", "", what, "", "| # | lesson | exercise | file |", "|---|---|---|---|"]
    for ex in EXERCISES:
        lines.append(f"| {ex.number} | {ex.lesson} | {ex.title} | `{ex.filename}` |")
    lines += ["", "Check your work (all of it, or some: `tinygrad-edu exercise check 3 4`):", "",
              "    tinygrad-edu exercise check", "",
              "See your own op at work, step by step: `tinygrad-edu exercise check --trace 2`.", ""]
    return "\n".join(lines)


def _write_new(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless a file is there already; True when written."""
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True


def start(folder: Path) -> list[tuple[str, str]]:
    """Create the workspace; returns (file name, "written" or "kept") for each stub and the README."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for ex in EXERCISES:
        done.append((ex.filename, "written" if _write_new(folder / ex.filename, stub_text(ex)) else "kept"))
    readme = _readme("tinygrad_edu exercises", "One file per exercise: each says what to write, the math, hints "
                     "and the lesson to read. Replace each `raise NotImplementedError` with your code.")
    done.append((README, "written" if _write_new(folder / README, readme) else "kept"))
    return done


def reset(folder: Path, exercise: Exercise) -> Path | None:
    """Put a fresh stub back; the student's file (if any) is moved to FILE.bak first. Returns the backup."""
    path = Path(folder) / exercise.filename
    backup = None
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        path.replace(backup)
    path.write_text(stub_text(exercise), encoding="utf-8")
    return backup


def write_solutions(folder: Path) -> list[tuple[str, str]]:
    """Write the reference solutions; returns (file name, "written", "kept" (differs) or "same")."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for ex in EXERCISES:
        text = solution_text(ex)
        path = folder / ex.filename
        if _write_new(path, text):
            done.append((ex.filename, "written"))
        else:
            same = path.read_text(encoding="utf-8", errors="replace") == text
            done.append((ex.filename, "same" if same else "kept"))
    readme = _readme("tinygrad_edu exercises: reference solutions",
                     "One way to solve each exercise. `tinygrad-edu exercise check --dir THIS_FOLDER` runs every "
                     "check on them.")
    _write_new(folder / README, readme)
    return done


def is_workspace(folder: Path) -> bool:
    """A folder holding at least one exercise file."""
    folder = Path(folder)
    return folder.is_dir() and any((folder / ex.filename).exists() for ex in EXERCISES)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_results(folder: Path, results) -> None:
    """Remember each checked exercise's verdict and the file it was given for (by its hash)."""
    folder = Path(folder)
    store = folder / RESULTS_FILE
    try:
        saved = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    for result in results:
        path = folder / result.exercise.filename
        if path.is_file():
            saved[str(result.exercise.number)] = {"status": result.status, "sha256": _digest(path)}
    try:
        store.write_text(json.dumps(saved, indent=1, sort_keys=True), encoding="utf-8")
    except OSError:
        pass                  # a read-only workspace still gets its results printed


def status(folder: Path, exercise: Exercise) -> str:
    """What ``list`` shows: missing, not started (still the stub), the last check's verdict, or edited."""
    path = Path(folder) / exercise.filename
    if not path.is_file():
        return "missing"
    try:
        if path.read_text(encoding="utf-8") == stub_text(exercise):
            return "not started"
    except (OSError, UnicodeDecodeError):
        pass
    try:
        saved = json.loads((Path(folder) / RESULTS_FILE).read_text(encoding="utf-8")).get(str(exercise.number))
    except (OSError, ValueError, AttributeError):
        saved = None
    if not saved:
        return "edited, not checked"
    if saved.get("sha256") != _digest(path):
        return f"edited since last check ({saved.get('status')})"
    return str(saved.get("status"))
