"""``tinygrad-edu tutorial``: list the lessons, read one in the terminal, or run its code block by block.

    tinygrad-edu tutorial              the numbered lessons
    tinygrad-edu tutorial 4            lesson 4, rendered (in a pager when the output is a terminal)
    tinygrad-edu tutorial 4 --run      run lesson 4's code blocks one at a time, each with its output
    tinygrad-edu tutorial 4 --notebook lesson4.ipynb     lesson 4 as a Jupyter notebook
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import traceback

from .. import tutorials
from . import terminal_width

HELP = "read the numbered lessons, or run a lesson's code block by block"


def _lesson_argument(text: str) -> tutorials.Lesson:
    """A lesson number (``4``) or a word of its file name (``michael``) -> the lesson; argparse turns
    the ArgumentTypeError into usage + exit 2."""
    try:
        found = tutorials.lessons()
    except tutorials.TutorialsNotFound as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    numbers = ", ".join(str(lesson.number) for lesson in found)
    if text.isdigit():
        for lesson in found:
            if lesson.number == int(text):
                return lesson
        raise argparse.ArgumentTypeError(f"there is no lesson {text}: choose one of {numbers}")
    matches = [lesson for lesson in found if text.lower() in lesson.slug.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise argparse.ArgumentTypeError(f"no lesson is called {text!r}: give a number ({numbers}) "
                                         "or a word of a lesson's name")
    names = ", ".join(f"{m.number} ({m.slug})" for m in matches)
    raise argparse.ArgumentTypeError(f"{text!r} matches several lessons: {names}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lesson", nargs="?", type=_lesson_argument, metavar="LESSON",
                        help="a lesson number (or a word of its name); leave out to list the lessons")
    parser.add_argument("--run", action="store_true", dest="run_blocks",
                        help="run the lesson's code blocks in order, showing each block and its output")
    parser.add_argument("--no-pause", action="store_true",
                        help="with --run: do not wait for Enter between blocks")
    parser.add_argument("--no-pager", action="store_true", help="print the lesson instead of paging it")
    parser.add_argument("--width", type=terminal_width, default=None, help="output width in columns")
    parser.add_argument("--notebook", metavar="OUT.ipynb", type=_notebook_file, default=None,
                        help="write the lesson as a Jupyter notebook (its text and code as cells, in order)")


def _notebook_file(text: str) -> str:
    """An argparse type: a .ipynb file in a folder that exists."""
    from pathlib import Path
    path = Path(text).expanduser()
    if path.suffix.lower() != ".ipynb":
        raise argparse.ArgumentTypeError(f"a notebook's name ends in .ipynb, got {text!r}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {path.parent} does not exist (make it first)")
    return text


def run(args: argparse.Namespace) -> int:
    console = args.output.console()
    if args.lesson is None:
        if args.notebook:
            print("usage: tinygrad-edu tutorial LESSON --notebook OUT.ipynb\n"
                  "tinygrad-edu tutorial: error: --notebook needs a lesson: give its number", file=sys.stderr)
            return 2
        return list_lessons(console)
    if args.notebook:
        return export_notebook(args.lesson, args.notebook, console)
    if args.run_blocks:
        missing = missing_extras(args.lesson)
        if missing:
            print(install_hint(args.lesson, missing), file=sys.stderr)
            return 1
        interactive = not args.no_pause and sys.stdin.isatty() and console.is_terminal
        return run_lesson(args.lesson, console, pause=interactive)
    return show_lesson(args.lesson, console, page=console.is_terminal and not args.no_pager)


def export_notebook(lesson: tutorials.Lesson, path: str, console) -> int:
    from ..notebook import write_notebook

    try:
        written = write_notebook(lesson, path)
    except OSError as error:
        print(f"tinygrad-edu tutorial: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    cells = len(lesson.blocks)
    console.print(f"wrote lesson {lesson.number} ({lesson.path.name}, {cells} code cells) to {written}",
                  markup=False, highlight=False, soft_wrap=True)
    console.print(f"open it with: jupyter lab {written}", markup=False, highlight=False, soft_wrap=True)
    return 0


# What a lesson's code may use beyond the framework: (pattern in its code, module to import, extra).
_EXTRAS = [
    (re.compile(r"""["']numpy["']|^\s*(import|from)\s+numpy\b""", re.M), "numpy", "numpy"),
    (re.compile(r"^\s*(import|from)\s+(hypothesis|pytest)\b", re.M), "hypothesis", "test"),
    (re.compile(r"^\s*(import|from)\s+torch\b", re.M), "torch", "torch"),
    (re.compile(r"^\s*(import|from)\s+matplotlib\b", re.M), "matplotlib", "plots"),
]


def needed_extras(lesson: tutorials.Lesson) -> list[tuple[str, str]]:
    """(module, extra) for every optional package the lesson's code uses: the NumPy backend, hypothesis ..."""
    code = "\n".join(block.code for block in lesson.blocks)
    return [(module, extra) for pattern, module, extra in _EXTRAS if pattern.search(code)]


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_extras(lesson: tutorials.Lesson) -> list[tuple[str, str]]:
    return [(module, extra) for module, extra in needed_extras(lesson) if not _installed(module)]


def install_hint(lesson: tutorials.Lesson, missing: list[tuple[str, str]]) -> str:
    """What to type so that ``lesson`` can run, with this very Python's pip."""
    names = ", ".join(module for module, _ in missing)
    extras = ",".join(dict.fromkeys(extra for _, extra in missing))
    python = sys.executable or "python"
    return (f"tinygrad-edu tutorial: lesson {lesson.number} needs {names}, which is not installed. Install it with\n"
            f"    {python} -m pip install -e \".[{extras}]\"     (in a clone of the repository)\n"
            f"or  {python} -m pip install \"tinygrad-edu[{extras}]\"")


def list_lessons(console) -> int:
    from rich.table import Table
    from rich.text import Text

    try:
        found = tutorials.lessons()
    except tutorials.TutorialsNotFound as error:
        console.print(str(error), markup=False, highlight=False)
        return 1
    table = Table(title="tinygrad_edu lessons", title_justify="left", show_edge=False)
    # Only the titles may wrap: file names and extras stay whole at any width (80 columns too).
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("lesson", ratio=1)
    table.add_column("file", no_wrap=True, min_width=max(len(lesson.path.name) for lesson in found))
    table.add_column("blocks", justify="right", no_wrap=True)
    table.add_column("needs", no_wrap=True)
    extras_used = {}
    for lesson in found:
        title = lesson.title.split("·", 1)[-1].strip()    # the number is in its own column
        needs = needed_extras(lesson)
        extras_used.update((extra, module) for module, extra in needs)
        marks = ", ".join(extra if _installed(module) else f"{extra} (not installed)" for module, extra in needs)
        table.add_row(str(lesson.number), title, lesson.path.name, str(len(lesson.blocks)), Text(marks))
    console.print(table)
    console.print("\nRead one: tinygrad-edu tutorial N    Run its code: tinygrad-edu tutorial N --run",
                  markup=False, highlight=False)
    if extras_used:
        extras = ",".join(sorted(extras_used))
        console.print(f'"needs": extras a lesson uses. Install: pip install -e ".[{extras}]"',
                      markup=False, highlight=False)
    return 0


def show_lesson(lesson: tutorials.Lesson, console, page: bool) -> int:
    from rich.markdown import Markdown

    markdown = Markdown(label_outputs(lesson.text, lesson.path.parent), code_theme="monokai", hyperlinks=False)
    if page:
        os.environ.setdefault("LESS", "-R")   # let less show the colours instead of escape codes
        with console.pager(styles=True):
            console.print(markdown)
    else:
        console.print(markdown)
    return 0


def label_outputs(text: str, folder=None) -> str:
    """Put a small "output" label above each ```output block, so that in plain text a block's
    output cannot be mistaken for more code; name each figure's file (see `tutorials.for_terminal`)."""
    lines = []
    for line in tutorials.for_terminal(text, folder).splitlines():
        if line.startswith("```output"):
            lines += ["*output:*", ""]
        lines.append(line)
    return "\n".join(lines)


def next_block(console, stream=None) -> bool:
    """Wait for one key, as the stepper does (no Enter needed): True to go on, False for q (or Esc)."""
    from ..trace.stepper import terminal_keys

    stream = stream if stream is not None else sys.stdin
    console.print("\n[dim]Enter or space: next block · q: quit[/]", end="")
    console.file.flush()
    with terminal_keys(stream) as keys:      # the terminal is restored on the way out, Ctrl-C too
        for key in keys:
            if key in ("q", "Q", "\x1b"):
                console.print()
                return False
            if key in ("\r", "\n", " ", "n"):
                console.print()
                return True
    console.print()
    return False                             # end of input: stop


def run_lesson(lesson: tutorials.Lesson, console, pause: bool) -> int:
    """Go through the lesson: its text, then each python block, run in one namespace, with what it prints."""
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    namespace = tutorials.new_namespace(lesson.path)
    total = len(lesson.blocks)
    for index, block in enumerate(lesson.blocks, 1):
        if block.prose:
            console.print(Markdown(label_outputs(block.prose, lesson.path.parent), code_theme="monokai", hyperlinks=False))
        console.print(Rule(f"block {index}/{total} · {lesson.path.name} line {block.line}", style="dim"))
        console.print(Syntax(block.code, "python", theme="monokai", line_numbers=True, start_line=block.line,
                             word_wrap=True))
        console.print(Rule("output", style="dim"))
        console.file.flush()
        try:
            tutorials.run_block(block, namespace, str(lesson.path))
        except ImportError as error:  # an optional package the scan of the code did not foresee
            sys.stdout.flush()
            console.print(f"[bold red]block {index} (line {block.line}) needs a package that is not installed:[/] "
                          f"{error}", highlight=False)
            return 1
        except Exception:  # show the lesson's own traceback and stop: later blocks depend on this one
            sys.stdout.flush()
            console.print(f"[bold red]block {index} (line {block.line}) failed:[/]")
            console.print(traceback.format_exc(), markup=False, highlight=False)
            return 1
        sys.stdout.flush()
        if pause and index < total and not next_block(console):
            return 0
    if lesson.closing:
        console.print(Markdown(label_outputs(lesson.closing, lesson.path.parent), code_theme="monokai", hyperlinks=False))
    console.print(Rule(f"ran all {total} blocks of lesson {lesson.number}", style="dim"))
    return 0
