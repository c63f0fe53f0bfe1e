"""``tinygrad-edu exercise``: list, start (never overwrites; --reset asks), check (table, --json, --trace, exit
codes) and solutions, as a student and a teacher use them."""
from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli
from tinygrad_edu.exercises import EXERCISES
from tinygrad_edu.exercises.workspace import RESULTS_FILE, solution_text, stub_text

EX = {ex.slug: ex for ex in EXERCISES}

PACKAGE = Path(tg.__file__).parent / "exercises"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    """argparse's usage errors exit 2 (raised as SystemExit); our own ones return 2."""
    try:
        code = cli.main(list(argv))
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    out, err = capsys.readouterr()
    assert "usage:" in err
    return err


@pytest.fixture
def workspace(tmp_path, capsys):
    folder = tmp_path / "ws"
    assert run(capsys, "exercise", "start", str(folder))[0] == 0
    return folder


def test_start_writes_one_stub_per_exercise_and_a_readme(tmp_path, capsys):
    folder = tmp_path / "ws"
    code, out, _ = run(capsys, "exercise", "start", str(folder), "--width", "100")
    assert code == 0
    for ex in EXERCISES:
        assert (folder / ex.filename).read_text(encoding="utf-8") == stub_text(ex)
    assert "tinygrad-edu exercise check" in (folder / "README.md").read_text(encoding="utf-8")
    assert f"wrote {len(EXERCISES) + 1} file(s)" in out and "exercise check 1" in out


def test_start_never_overwrites_and_says_so(workspace, capsys):
    mine = workspace / EXERCISES[1].filename
    mine.write_text("# my work\n", encoding="utf-8")
    (workspace / EXERCISES[2].filename).unlink()
    code, out, _ = run(capsys, "exercise", "start", str(workspace), "--width", "200")
    assert code == 0
    assert mine.read_text(encoding="utf-8") == "# my work\n"
    assert f"wrote 1 file(s) in {workspace}: {EXERCISES[2].filename}" in out
    assert "not overwritten" in out and EXERCISES[1].filename in out
    code, out, _ = run(capsys, "exercise", "start", str(workspace))
    assert "none overwritten" in out and mine.read_text(encoding="utf-8") == "# my work\n"


def test_reset_asks_and_without_an_answer_says_how(workspace, capsys, monkeypatch):
    mine = workspace / EX["mul"].filename
    mine.write_text("# my work\n", encoding="utf-8")
    number = str(EX["mul"].number)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))            # no one to answer
    code, out, err = run(capsys, "exercise", "start", str(workspace), "--reset", number)
    assert code == 1 and "--yes" in err and "not reset" in err
    assert mine.read_text(encoding="utf-8") == "# my work\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, _ = run(capsys, "exercise", "start", str(workspace), "--reset", number)
    assert code == 0 and "kept" in out and mine.read_text(encoding="utf-8") == "# my work\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = run(capsys, "exercise", "start", str(workspace), "--reset", number)
    assert code == 0 and "fresh stub" in out
    assert mine.read_text(encoding="utf-8") == stub_text(EX["mul"])
    assert (workspace / (EX["mul"].filename + ".bak")).read_text(encoding="utf-8") == "# my work\n"


def test_reset_with_yes_does_not_ask(workspace, capsys, monkeypatch):
    mine = workspace / EX["exp_log"].filename
    mine.write_text("# my work\n", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, _ = run(capsys, "exercise", "start", str(workspace), "--reset", str(EX["exp_log"].number), "--yes")
    assert code == 0 and mine.read_text(encoding="utf-8") == stub_text(EX["exp_log"])


def test_list_shows_every_exercise_in_lesson_order(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "exercise", "list", "--width", "160")
    assert code == 0
    positions = [out.index(ex.title) for ex in EXERCISES]
    assert positions == sorted(positions)
    assert "exercise start" in out


def test_check_on_fresh_stubs_reports_not_started_and_exits_1(workspace, capsys):
    code, out, _ = run(capsys, "exercise", "check", "--dir", str(workspace), "--width", "160")
    assert code == 1
    assert out.count("not started") >= len(EXERCISES)
    assert f"0 of {len(EXERCISES)} passed" in out and f"{len(EXERCISES)} not started" in out
    assert "not implemented" in out and "Traceback" not in out


def test_check_a_few_exercises_and_list_remembers_them(workspace, capsys):
    good, broken, untouched = EX["strides"], EX["mul"], EX["exp_log"]
    for ex in (good, EX["unbroadcast"]):
        shutil.copy(PACKAGE / "solutions" / ex.filename, workspace)
    (workspace / broken.filename).write_text("def oops(:\n", encoding="utf-8")
    numbers = [str(ex.number) for ex in (good, broken, EX["unbroadcast"])]
    code, out, _ = run(capsys, "exercise", "check", *numbers, "--dir", str(workspace), "--width", "160")
    assert code == 1
    assert "2 of 3 passed" in out and "1 failed" in out and "is not valid Python" in out
    assert (workspace / RESULTS_FILE).exists()
    code, out, _ = run(capsys, "exercise", "list", "--dir", str(workspace), "--width", "160")
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 4}
    assert "passed" in lines[str(good.number)] and "failed" in lines[str(broken.number)]
    assert "passed" in lines[str(EX["unbroadcast"].number)] and "not started" in lines[str(untouched.number)]
    (workspace / good.filename).write_text(solution_text(good) + "\n# more\n", encoding="utf-8")
    code, out, _ = run(capsys, "exercise", "list", "--dir", str(workspace), "--width", "160")
    assert "edited since last check (passed)" in out


def test_check_json_for_graders(workspace, capsys):
    good, untouched, broken = EX["strides"], EX["exp_log"], EX["unbroadcast"]
    shutil.copy(PACKAGE / "solutions" / good.filename, workspace)
    (workspace / broken.filename).write_text("import no_such_module_here\n", encoding="utf-8")
    numbers = [str(ex.number) for ex in (good, untouched, broken)]
    code, out, _ = run(capsys, "exercise", "check", *numbers, "--dir", str(workspace), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["backends"] == ["python", "numpy"] and report["total"] == 3 and not report["all_passed"]
    rows = {row["slug"]: row for row in report["exercises"]}
    assert rows["strides"]["status"] == "passed" and rows["strides"]["checks_passed"] == rows["strides"]["checks"]
    assert rows["exp_log"]["status"] == "not started" and rows["exp_log"]["kind"] == "not-implemented"
    assert rows["unbroadcast"]["status"] == "failed" and rows["unbroadcast"]["kind"] == "load-error"
    assert "no_such_module_here" in rows["unbroadcast"]["failure"]
    assert set(rows["strides"]) >= {"number", "title", "lesson", "file", "failure", "hint", "steps", "seconds"}


def test_solutions_pass_every_check_and_exit_0(tmp_path, capsys):
    folder = tmp_path / "solutions"
    code, out, _ = run(capsys, "exercise", "solutions", str(folder))
    assert code == 0 and "wrote" in out and f"exercise check --dir {folder}" in out
    for ex in EXERCISES:
        assert (folder / ex.filename).read_text(encoding="utf-8") == solution_text(ex)
    code, out, _ = run(capsys, "exercise", "check", "--dir", str(folder), "--json", "--backend", "python")
    report = json.loads(out)
    assert code == 0 and report["all_passed"] and report["passed"] == len(EXERCISES)
    assert report["backends"] == ["python"]


def test_solutions_never_overwrite_a_different_file(tmp_path, capsys):
    folder = tmp_path / "solutions"
    folder.mkdir()
    mine = folder / EX["mul"].filename
    mine.write_text("# mine\n", encoding="utf-8")
    code, out, _ = run(capsys, "exercise", "solutions", str(folder), "--width", "200")
    assert code == 0 and f"not overwritten: {mine.name}" in out
    assert mine.read_text(encoding="utf-8") == "# mine\n"


def test_trace_steps_through_the_student_s_own_op(tmp_path, capsys):
    shutil.copy(PACKAGE / "solutions" / EX["mul"].filename, tmp_path)
    code, out, _ = run(capsys, "exercise", "check", "--trace", str(EX["mul"].number), "--dir", str(tmp_path),
                       "--width", "100")
    assert code == 0
    assert "Mul" in out and "forward" in out and "backward" in out
    assert "x" in out and "w" in out


def test_trace_of_a_stub_says_it_is_not_written_yet(workspace, capsys):
    code, _, err = run(capsys, "exercise", "check", "--trace", str(EX["mul"].number), "--dir", str(workspace))
    assert code == 1 and "not written yet" in err


@pytest.mark.parametrize("argv, words", [
    (["exercise"], "choose an action"),
    (["exercise", "frobnicate"], "invalid choice"),
    (["exercise", "check", "99"], "there is no exercise 99"),
    (["exercise", "check", "two"], "expected an exercise number"),
    (["exercise", "start", "--reset", "0"], "there is no exercise 0"),
    (["exercise", "check", "--trace", "2", "3"], "--trace N runs one exercise"),
    (["exercise", "check", "--trace", str(EX["strides"].number)], "has no example to trace"),
    (["exercise", "check", "--timeout", "-1"], "positive number of seconds"),
    (["exercise", "check", "--dir", "/no/such/folder"], "no workspace at /no/such/folder"),
    (["exercise", "list", "--backend", "cuda"], "invalid choice: 'cuda'"),
])
def test_bad_arguments_print_usage_and_exit_2(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--trace" in argv:
        shutil.copytree(PACKAGE / "stubs", tmp_path / "tinygrad-edu-exercises")
    assert words in usage_error(capsys, *argv)


def test_backend_and_export_work_after_the_action_too(tmp_path, capsys):
    shutil.copy(PACKAGE / "solutions" / EX["strides"].filename, tmp_path)
    number = str(EX["strides"].number)
    export = tmp_path / "report.txt"
    code, out, _ = run(capsys, "exercise", "check", number, "--dir", str(tmp_path), "--backend", "numpy",
                       "--export", str(export), "--width", "120")
    assert code == 0 and "backends: numpy" in out
    assert "1 of 1 passed" in export.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "exercise", "--backend", "numpy", "check", number, "--dir", str(tmp_path),
                       "--width", "120")
    assert code == 0 and "backends: numpy" in out
