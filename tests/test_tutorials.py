"""The lessons in tutorials/ run as written: every python block executes in order (state shared within a
lesson), the output each lesson shows is the output the code prints, and the CLI lists, renders and runs
every lesson.

The shown output was produced on the pure-Python backend (lesson 1 prints its list storage, for one), so
it is compared only when that backend is the default; on any default backend every block must run, and
every lesson also runs on NumPy when it is installed."""
from __future__ import annotations

import importlib.util
import re
import textwrap
import traceback

import pytest

import tinygrad_edu as tg
from tinygrad_edu import tutorials
from tinygrad_edu.cli import main

LESSONS = tutorials.lessons()


def lesson_id(lesson) -> str:
    return lesson.path.name


def run_lesson_blocks(lesson) -> list[str]:
    """Run every block; on an error fail with the file and line of the failing block."""
    namespace = tutorials.new_namespace(lesson.path)
    outputs = []
    for block in lesson.blocks:
        try:
            outputs.append(tutorials.capture_block(block, namespace, str(lesson.path)))
        except Exception as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(lesson.path)]
            line = frames[-1].lineno if frames else block.line
            pytest.fail(f"{lesson.path}:{line}: the block starting at line {block.line} raised "
                        f"{type(error).__name__}: {error}\n{traceback.format_exc()}", pytrace=False)
    return outputs


def test_there_are_lessons_numbered_from_zero_without_gaps():
    numbers = [lesson.number for lesson in LESSONS]
    assert numbers == list(range(len(numbers))) and len(numbers) >= 10
    assert all(lesson.blocks for lesson in LESSONS), "every lesson has code to run"


def test_the_story_comes_first_and_credits_its_sources():
    story = LESSONS[0].text
    assert "3blue1brown" in story.lower() and "How might LLMs store facts" in story
    assert "Toy Models of Superposition" in story and "Elhage" in story
    assert "next token" in story and "woman − man" in story and "GELU" in story
    engine_room = [lesson for lesson in LESSONS if "engine room" in lesson.text.lower().split("**what you will learn**")[0]]
    assert engine_room and min(lesson.number for lesson in engine_room) > 8, "the engine room comes after the story"


@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_every_image_link_resolves(lesson):
    for alt, target in tutorials.image_links(lesson.text):
        assert alt.strip(), f"{lesson.path.name}: the image {target} has no description"
        assert (lesson.path.parent / target).is_file(), f"{lesson.path.name}: {target} does not exist"


def test_lessons_from_the_mlp_block_on_have_figures():
    for lesson in LESSONS:
        if lesson.number >= 3 and "extend" not in lesson.slug:
            assert tutorials.image_links(lesson.text), f"{lesson.path.name} shows no figure"


@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_lesson_code_runs_and_prints_what_it_shows(lesson, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # a lesson that writes a file writes it here
    outputs = run_lesson_blocks(lesson)
    if tg.get_backend() != "python":
        return   # the outputs shown were printed on the pure-Python backend
    for block, output in zip(lesson.blocks, outputs):
        if block.expected is None or not block.check:
            continue
        shown, actual = tutorials.normalise_output(block.expected), tutorials.normalise_output(output)
        assert actual == shown, (
            f"{lesson.path}:{block.expected_line}: the output shown differs from what the block at line "
            f"{block.line} prints (refresh with: python -m tinygrad_edu.tutorials {lesson.path})\n"
            f"--- shown\n{shown}\n--- printed\n{actual}")


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="NumPy is not installed")
@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_lesson_code_runs_on_the_numpy_backend(lesson, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with tg.use_backend("numpy"):
        run_lesson_blocks(lesson)


@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_lesson_has_the_parts_of_a_lesson(lesson):
    text = lesson.text
    assert lesson.title.startswith(f"Lesson {lesson.number} ")
    assert "What you will learn" in text
    exercises = text.split("## Exercises", 1)
    assert len(exercises) == 2, "a lesson ends with exercises"
    numbered = re.findall(r"^\d+\. ", exercises[1], flags=re.M)
    assert 2 <= len(numbered) <= 4
    assert exercises[1].count("*Hint:*") >= len(numbered)


# ---- the parser and runner -------------------------------------------------------------------------
SAMPLE = textwrap.dedent("""\
    # Lesson 99 · sample

    ```python
    a = 2
    a * 21
    ```

    ```output
    42
    ```

    Text, then a block that prints nothing and a shell example that is not run:

    ```bash
    tinygrad-edu demo
    ```

    ```python
    b = a + 1
    ```

    ```python
    import time
    print(time.time())
    ```

    ```output example
    1700000000.0
    ```

    ```python
    c = b / 0
    ```
    """)


def test_parser_finds_python_blocks_their_lines_and_outputs():
    blocks = tutorials.parse_blocks(SAMPLE)
    assert [b.line for b in blocks] == [4, 19, 23, 32]
    assert blocks[0].code == "a = 2\na * 21"
    assert (blocks[0].expected, blocks[0].expected_line, blocks[0].check) == ("42", 9, True)
    assert blocks[1].expected is None
    assert blocks[2].expected == "1700000000.0" and blocks[2].check is False
    assert blocks[0].prose == "# Lesson 99 · sample"
    assert blocks[1].prose.startswith("Text, then a block") and "tinygrad-edu demo" in blocks[1].prose
    assert blocks[2].prose == "" and blocks[3].prose == ""
    assert tutorials.closing_text(SAMPLE) == ""
    assert tutorials.closing_text(SAMPLE + "\n## Exercises\n\n1. one\n") == "## Exercises\n\n1. one"


def test_a_failing_block_points_at_its_file_and_line(tmp_path):
    path = tmp_path / "99_sample.md"
    path.write_text(SAMPLE)
    lesson = tutorials.read_lesson(path)
    namespace = tutorials.new_namespace(path)
    assert tutorials.capture_block(lesson.blocks[0], namespace, str(path)) == "42\n"
    tutorials.capture_block(lesson.blocks[1], namespace, str(path))
    assert namespace["b"] == 3
    with pytest.raises(ZeroDivisionError) as info:
        tutorials.capture_block(lesson.blocks[3], namespace, str(path))
    last = traceback.extract_tb(info.tb)[-1]
    assert (last.filename, last.lineno, last.line) == (str(path), 32, "c = b / 0")


def test_write_outputs_refreshes_a_stale_output_block(tmp_path):
    path = tmp_path / "99_sample.md"
    stale = SAMPLE.replace("```output\n42\n```", "```output\n41\n```").replace("c = b / 0", "c = b")
    path.write_text(stale)
    tutorials.write_outputs(path)
    text = path.read_text()
    assert "```output\n42\n```" in text
    assert "1700000000.0" in text          # example output is left as written
    assert text.count("```output") == 2


# ---- the command line ----------------------------------------------------------------------------
def run_cli(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_cli_lists_every_lesson(capsys):
    code, out = run_cli(["tutorial", "--width", "160"], capsys)
    assert code == 0
    for lesson in LESSONS:
        assert lesson.path.name in out
        assert lesson.title.split("·", 1)[-1].strip() in out


@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_id)
def test_cli_renders_every_lesson_as_plain_text_when_piped(lesson, capsys):
    code, out = run_cli(["tutorial", str(lesson.number), "--width", "120"], capsys)
    assert code == 0
    assert "\x1b[" not in out, "no colour codes when the output is not a terminal"
    assert lesson.title in out
    assert "What you will learn" in out
    assert "```" not in out, "Markdown is rendered, not printed raw"
    assert lesson.blocks[0].code.splitlines()[0].strip() in out


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if "extend" not in lesson.slug], ids=lesson_id)
def test_every_exercise_has_a_worked_solution(lesson):
    exercises = lesson.text.split("## Exercises", 1)[1]
    numbered = re.findall(r"^(\d+)\. ", exercises, flags=re.M)
    summaries = re.findall(r"<summary>Solution (\d+)</summary>", exercises)
    assert summaries == numbered, f"{lesson.path.name}: exercises {numbered}, solutions {summaries}"
    assert exercises.count("<details>") == exercises.count("</details>") == len(numbered)


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if tutorials.image_links(lesson.text)], ids=lesson_id)
def test_cli_names_each_figure_file(lesson, capsys):
    code, out = run_cli(["tutorial", str(lesson.number), "--width", "200"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    for _, target in tutorials.image_links(lesson.text):
        assert target.rsplit("/", 1)[-1] in flat, f"{target} is not named"
    assert "Figure:" in out


def test_cli_finds_a_lesson_by_a_word_of_its_name(capsys):
    code, out = run_cli(["tutorial", "tensors", "--width", "120"], capsys)
    tensors = next(lesson for lesson in LESSONS if lesson.slug == "tensors")
    assert code == 0 and tensors.title in out


def test_cli_runs_a_lesson_block_by_block(capsys):
    lesson = LESSONS[0]
    code, out = run_cli(["tutorial", str(lesson.number), "--run", "--width", "120"], capsys)
    assert code == 0
    assert f"block 1/{len(lesson.blocks)}" in out
    assert f"block {len(lesson.blocks)}/{len(lesson.blocks)}" in out
    assert "What you will learn" in out and "Exercises" in out, "the lesson's text comes with its code"
    for block in lesson.blocks:
        if block.expected and block.check:
            assert block.expected.splitlines()[0].strip() in out


@pytest.mark.parametrize("argument", ["99", "100", "no-such-lesson"])
def test_cli_refuses_a_lesson_that_does_not_exist(argument, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tutorial", argument])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert argument in err


def test_cli_says_where_it_looked_when_the_lessons_are_missing(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "nothing"
    empty.mkdir()
    monkeypatch.setenv(tutorials.ENV_VAR, str(empty))
    monkeypatch.setattr(tutorials, "__file__", str(tmp_path / "site-packages" / "tinygrad_edu" / "tutorials.py"))
    monkeypatch.setattr(tutorials.sysconfig, "get_path", lambda name: str(tmp_path / "prefix"))
    monkeypatch.chdir(tmp_path)
    code, out = run_cli(["tutorial"], capsys)
    assert code == 1
    assert tutorials.ENV_VAR in out and str(empty) in " ".join(out.split())


def test_lessons_are_found_where_a_wheel_installs_them(tmp_path, monkeypatch):
    """A non-editable install puts the lessons in <prefix>/share/tinygrad-edu/tutorials."""
    prefix = tmp_path / "prefix"
    package = prefix / "lib" / "python3.11" / "site-packages" / "tinygrad_edu"
    shared = prefix / "share" / "tinygrad-edu" / "tutorials"
    shared.mkdir(parents=True)
    (shared / "01_sample.md").write_text(SAMPLE)
    monkeypatch.delenv(tutorials.ENV_VAR, raising=False)
    monkeypatch.setattr(tutorials, "__file__", str(package / "tutorials.py"))
    monkeypatch.setattr(tutorials.sysconfig, "get_path", lambda name: str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    assert tutorials.tutorials_dir() == shared
    assert [lesson.title for lesson in tutorials.lessons()] == ["Lesson 99 · sample"]


def test_cli_run_stops_at_a_failing_block_and_names_its_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "01_sample.md"
    path.write_text(SAMPLE)
    monkeypatch.setenv(tutorials.ENV_VAR, str(tmp_path))
    code, out = run_cli(["tutorial", "1", "--run", "--width", "120"], capsys)
    assert code == 1
    assert "block 4 (line 32) failed" in out
    assert "ZeroDivisionError" in out


def test_files_shown_in_a_lesson_are_the_files_on_disk():
    """A block that starts with ``# tutorials/extensions/NAME.py`` shows that file, and must stay equal to it."""
    root = tutorials.tutorials_dir().parent
    shown = 0
    for lesson in LESSONS:
        for block in lesson.blocks:
            first, _, rest = block.code.partition("\n")
            if first.startswith("# tutorials/extensions/"):
                path = root / first[2:].strip()
                assert rest.strip() == path.read_text(encoding="utf-8").strip(), (
                    f"{lesson.path}:{block.line}: the code shown differs from {path}")
                shown += 1
    assert shown >= 2
