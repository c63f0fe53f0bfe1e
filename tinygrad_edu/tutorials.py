"""The numbered lessons in ``tutorials/``: find them, read their code blocks, run them.

A lesson is a Markdown file ``NN_name.md``. Its ```` ```python ```` blocks run in order in one
namespace, like cells of a notebook. The block right after one of them, fenced ```` ```output ````,
is what that code prints (and, as in the Python prompt, the value of a final bare expression).
``` ```output example ``` marks output that changes from run to run (timings): it is shown, not compared.

The lessons live beside the package in the repository checkout (``tutorials/`` at the top); set
``TINYGRAD_EDU_TUTORIALS`` to a folder of lessons to read them from anywhere else.

Refresh the shown output after editing a lesson::

    python -m tinygrad_edu.tutorials tutorials/04_michael_jordan.md
"""
from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "TINYGRAD_EDU_TUTORIALS"
OUTPUT_WIDTH = 100           # Rich output inside lessons is laid out for this many columns
_LESSON_FILE = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.md$")
_FENCE = re.compile(r"^(`{3,})\s*([^`]*)$")


@dataclass
class CodeBlock:
    """One ```` ```python ```` block: its source, where it starts, and the output the lesson shows."""
    code: str
    line: int                      # line number (1-based) of the first line of code in the file
    expected: str | None = None    # the text of the ```output block that follows, if any
    expected_line: int | None = None
    check: bool = True             # False for ```output example (varies between runs)
    prose: str = ""                # the lesson text between the previous block (or its output) and this one


@dataclass
class Lesson:
    number: int
    slug: str
    path: Path
    title: str
    text: str = field(repr=False)
    blocks: list[CodeBlock] = field(repr=False)

    @property
    def closing(self) -> str:
        """The text after the last code block and its output (the exercises)."""
        return closing_text(self.text)


class TutorialsNotFound(FileNotFoundError):
    """The lesson files are not where the package looked."""


# ---- finding the lessons -------------------------------------------------------------------------
def tutorials_dir() -> Path:
    """The folder holding the lessons: $TINYGRAD_EDU_TUTORIALS, the checkout beside the package,
    or ``./tutorials``; a clear error when none of them has lessons."""
    candidates = []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    package = Path(__file__).resolve().parent
    candidates.append(package.parent / "tutorials")                 # a source checkout (pip install -e .)
    # A wheel puts the lessons in <prefix>/share/tinygrad-edu/tutorials; site-packages is
    # <prefix>/lib/pythonX.Y/site-packages (or <prefix>/Lib/site-packages on Windows).
    for prefix in (Path(sysconfig.get_path("data")), *package.parents[2:4]):
        candidates.append(prefix / "share" / "tinygrad-edu" / "tutorials")
    candidates.append(Path.cwd() / "tutorials")
    candidates = list(dict.fromkeys(candidates))
    for folder in candidates:
        if folder.is_dir() and any(_LESSON_FILE.match(p.name) for p in folder.iterdir()):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise TutorialsNotFound(
        f"tutorial: no lessons found (looked in {looked}). The lessons live in the tutorials/ folder of the "
        f"source checkout: clone the repository and install it with `pip install -e .`, or set {ENV_VAR} to "
        "the folder that holds 01_tensors.md ...")


def lessons(folder: Path | None = None) -> list[Lesson]:
    """Every lesson in ``folder`` (default: `tutorials_dir`), in number order."""
    folder = folder or tutorials_dir()
    found = []
    for path in folder.iterdir():
        match = _LESSON_FILE.match(path.name)
        if match:
            found.append(read_lesson(path, int(match.group(1)), match.group(2)))
    return sorted(found, key=lambda lesson: lesson.number)


def read_lesson(path: Path, number: int | None = None, slug: str | None = None) -> Lesson:
    text = path.read_text(encoding="utf-8")
    match = _LESSON_FILE.match(path.name)
    if number is None:
        number = int(match.group(1)) if match else 0
    if slug is None:
        slug = match.group(2) if match else path.stem
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), slug)
    return Lesson(number, slug, path, title, text, parse_blocks(text))


# ---- reading code blocks -------------------------------------------------------------------------
def _fences(text: str):
    """(info string, first content line number, content) for every fenced block, in order."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        ticks, info = opening.group(1), opening.group(2).strip()
        start = i + 1
        j = start
        while j < len(lines) and lines[j].rstrip() != ticks:
            j += 1
        yield info, start + 1, "\n".join(lines[start:j]), j + 1   # also the line after the fence
        i = j + 1


def parse_blocks(text: str) -> list[CodeBlock]:
    """The python blocks of a lesson, each with the output block that directly follows it and the
    prose that comes before it."""
    blocks, _ = _parse(text)
    return blocks


def closing_text(text: str) -> str:
    return _parse(text)[1]


def _parse(text: str) -> tuple[list[CodeBlock], str]:
    blocks: list[CodeBlock] = []
    lines = text.splitlines()
    previous_end = None    # index of the line after the last python block, while an output may follow
    cursor = 0             # index of the first line not yet given to a block as its prose or output
    for info, line, content, end in _fences(text):
        words = info.split()
        kind = words[0] if words else ""
        opening = line - 2
        if kind == "python":
            blocks.append(CodeBlock(content, line, prose="\n".join(lines[cursor:opening]).strip("\n")))
            cursor = end
        elif kind == "output" and blocks and previous_end is not None and \
                blocks[-1].expected is None and all(not s.strip() for s in lines[previous_end:opening]):
            blocks[-1].expected = content
            blocks[-1].expected_line = line
            blocks[-1].check = "example" not in words[1:]
            cursor = end
        previous_end = end if kind == "python" else None
    return blocks, "\n".join(lines[cursor:]).strip("\n")


# ---- figures and solutions in the terminal --------------------------------------------------------
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_SUMMARY = re.compile(r"^\s*<summary>(.*?)</summary>\s*$", re.M)
_DETAILS = re.compile(r"^\s*</?details>\s*$", re.M)


def image_links(text: str) -> list[tuple[str, str]]:
    """(alt text, target) of every Markdown image ``![alt](target)`` in ``text``."""
    return [(m.group(1), m.group(2)) for m in _IMAGE.finditer(text)]


def for_terminal(text: str, folder: Path | None = None) -> str:
    """Lesson Markdown made readable where pictures and HTML cannot be shown: each image becomes a line
    naming the figure and its file (relative to ``folder``, the lesson's folder), and a solution's
    ``<summary>`` becomes a bold heading (the ``<details>`` tags around it go: a terminal shows all)."""
    def figure(match: re.Match) -> str:
        alt, target = match.group(1), match.group(2)
        where = target
        if folder is not None and "://" not in target:
            path = (folder / target).resolve()
            try:
                where = str(path.relative_to(Path.cwd()))
            except ValueError:
                where = str(path)
        return f"**Figure:** {alt} (`{where}`)"

    text = _DETAILS.sub("", _IMAGE.sub(figure, text))
    return _SUMMARY.sub(lambda m: f"**{m.group(1)}**", text)


# ---- running code blocks -------------------------------------------------------------------------
def compile_block(block: CodeBlock, filename: str):
    """The block as code objects whose line numbers are the Markdown file's, so a traceback points
    into the lesson. A final bare expression is split off so its value can be shown, as at the prompt."""
    source = "\n" * (block.line - 1) + block.code + "\n"
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, filename, "exec")
    return body, (compile(last, filename, "eval") if last is not None else None)


def run_block(block: CodeBlock, namespace: dict, filename: str) -> None:
    """Run one block in ``namespace``; print the value of a final bare expression (unless None)."""
    body, last = compile_block(block, filename)
    exec(body, namespace)
    if last is not None:
        value = eval(last, namespace)
        if value is not None:
            print(repr(value))


@contextlib.contextmanager
def lesson_environment():
    """Deterministic surroundings for shown output: Rich lays out for `OUTPUT_WIDTH` columns, no colour."""
    saved = {key: os.environ.get(key) for key in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    os.environ["COLUMNS"] = str(OUTPUT_WIDTH)
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("FORCE_COLOR", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def capture_block(block: CodeBlock, namespace: dict, filename: str) -> str:
    """Run one block and return what it printed."""
    buffer = io.StringIO()
    with lesson_environment(), contextlib.redirect_stdout(buffer):
        run_block(block, namespace, filename)
    return buffer.getvalue()


def new_namespace(path: Path) -> dict:
    return {"__name__": "__lesson__", "__file__": str(path)}


def normalise_output(text: str) -> str:
    """Compare outputs line by line, ignoring trailing spaces and blank lines at the ends."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


# ---- refreshing the shown output -----------------------------------------------------------------
def write_outputs(path: Path) -> int:
    """Run a lesson and write each block's real output into the ```output block after it
    (adding one where a block prints something and has none). Returns the number of blocks run."""
    lesson = read_lesson(path)
    namespace = new_namespace(path)
    outputs = [capture_block(block, namespace, str(path)) for block in lesson.blocks]
    lines = lesson.text.splitlines()
    # Edit from the bottom up so earlier line numbers stay valid.
    for block, output in reversed(list(zip(lesson.blocks, outputs))):
        code_end = block.line - 1 + len(block.code.splitlines())   # index of the closing fence
        new_output = output.rstrip("\n").splitlines()
        if block.expected_line is not None:
            if not block.check:
                continue   # example output is written by hand
            start = block.expected_line - 1
            stop = start + len(block.expected.splitlines()) if block.expected else start
            lines[start:stop] = new_output
            if not new_output:  # drop an output block that no longer has anything to show
                del lines[code_end + 1:start + 1]
        elif new_output:
            lines[code_end + 1:code_end + 1] = ["", "```output", *new_output, "```"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lesson.blocks)


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    if not paths:
        print("usage: python -m tinygrad_edu.tutorials LESSON.md ...  (rewrites the ```output blocks)",
              file=sys.stderr)
        return 2
    for path in paths:
        count = write_outputs(path)
        print(f"{path}: ran {count} blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
