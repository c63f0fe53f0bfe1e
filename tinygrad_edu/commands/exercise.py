"""``tinygrad-edu exercise``: the lessons as a course that a student solves and the framework checks.

    tinygrad-edu exercise list                     the exercises in lesson order (and, in a workspace, how each stands)
    tinygrad-edu exercise start [DIR]              a workspace of stubs, one file per exercise (never overwrites)
    tinygrad-edu exercise start [DIR] --reset N    a fresh stub for exercise N, after asking (--yes: without)
    tinygrad-edu exercise check [N ...]            run the checks on your files: a table, exit 0 when all pass
    tinygrad-edu exercise check --json             the same as JSON, for a grader
    tinygrad-edu exercise check --trace N          step through exercise N's example with your code in it
    tinygrad-edu exercise solutions [DIR]          the reference solutions, for teachers

DIR defaults to ./tinygrad-edu-exercises (./tinygrad-edu-solutions for solutions); check reads it with
--dir DIR. Each check runs your code in the real engine, on every backend installed (python, and numpy
when NumPy is there; --backend picks one): values against the framework's own, gradients with
gradcheck on hypothesis-drawn examples (the same every run), and for the model exercises the outcome.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HELP = "the course: exercises to solve, checked in the real engine (list, start, check, solutions)"
ACTIONS = ("list", "start", "check", "solutions")


# ---- arguments -------------------------------------------------------------------------------------------
def exercise_number(text: str) -> int:
    """An argparse type: the number of an existing exercise (anything else is a usage error, exit 2)."""
    from ..exercises import EXERCISES
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an exercise number, got {text!r}") from None
    if not any(ex.number == number for ex in EXERCISES):
        raise argparse.ArgumentTypeError(f"there is no exercise {number}: the exercises are 1 to {len(EXERCISES)}")
    return number


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _global_options(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--export`` after the action too (``exercise check --backend numpy``); SUPPRESS keeps
    the value given before the action when they are not repeated."""
    from .output import export_file
    parser.add_argument("--backend", choices=["python", "numpy"], default=argparse.SUPPRESS,
                        help="check on this backend only (default: every backend installed)")
    parser.add_argument("--export", type=export_file, default=argparse.SUPPRESS, metavar="FILE",
                        help="also save what the command prints as FILE (.svg, .html or .txt)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..exercises.workspace import DEFAULT_SOLUTIONS, DEFAULT_WORKSPACE
    from . import positive_int

    parser.description = __doc__.split("\n\n", 1)[1] if __doc__ else None
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="the exercises in lesson order, with your progress")
    listing.add_argument("--dir", default=DEFAULT_WORKSPACE, metavar="DIR",
                         help=f"the workspace whose progress to show (default ./{DEFAULT_WORKSPACE})")

    start = actions.add_parser("start", help="create a workspace of stubs (never overwrites your work)")
    start.add_argument("dir", nargs="?", default=DEFAULT_WORKSPACE, metavar="DIR",
                       help=f"where (default ./{DEFAULT_WORKSPACE})")
    start.add_argument("--reset", type=exercise_number, action="append", metavar="N",
                       help="put a fresh stub back for exercise N (asks first; your file is kept as .bak)")
    start.add_argument("--yes", action="store_true", help="with --reset: do not ask")

    check = actions.add_parser("check", help="check your exercises; exit 0 when every one checked passes")
    check.add_argument("numbers", nargs="*", type=exercise_number, metavar="N",
                       help="the exercises to check (default: all)")
    check.add_argument("--dir", default=DEFAULT_WORKSPACE, metavar="DIR",
                       help=f"the workspace (default ./{DEFAULT_WORKSPACE})")
    check.add_argument("--json", action="store_true", help="print the results as JSON (for graders)")
    check.add_argument("--trace", type=exercise_number, default=None, metavar="N",
                       help="step through exercise N's example, run with your code (alone: no checks)")
    check.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS",
                       help="give up on one exercise after this long (default 120)")
    check.add_argument("--examples", type=positive_int, default=None, metavar="K",
                       help="hypothesis examples per property and backend (default 12; more is slower)")

    solutions = actions.add_parser("solutions", help="write the reference solutions (for teachers)")
    solutions.add_argument("dir", nargs="?", default=DEFAULT_SOLUTIONS, metavar="DIR",
                           help=f"where (default ./{DEFAULT_SOLUTIONS})")

    for sub in (listing, start, check, solutions):
        sub.add_argument("--width", type=positive_int, default=None, help="output width in columns")
        _global_options(sub)
    parser.set_defaults(exercise_parser=parser)


def _usage_error(args, message: str) -> int:
    parser = getattr(args, "exercise_parser", None)
    text = (parser.format_usage() if parser else "usage: tinygrad-edu exercise ACTION ...\n")
    sys.stderr.write(text + f"tinygrad-edu exercise: error: {message}\n")
    return 2


def run(args: argparse.Namespace) -> int:
    if args.action is None:
        parser = getattr(args, "exercise_parser", None)
        sys.stderr.write((parser.format_help() if parser else "") +
                         "\ntinygrad-edu exercise: choose an action: " + ", ".join(ACTIONS) + "\n")
        return 2
    return {"list": run_list, "start": run_start, "check": run_check, "solutions": run_solutions}[args.action](args)


def _say(console, text: str) -> None:
    """Plain text (no markup), wrapped by the terminal, so a path or a command stays whole to copy."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _console(args):
    output = getattr(args, "output", None)
    if output is not None:
        return output.console()
    from rich.console import Console
    return Console(width=getattr(args, "width", None))


# ---- list ------------------------------------------------------------------------------------------------
def run_list(args) -> int:
    from rich.table import Table

    from ..exercises import EXERCISES
    from ..exercises.workspace import is_workspace, status

    console = _console(args)
    folder = Path(args.dir)
    in_workspace = is_workspace(folder)
    table = Table(title="tinygrad_edu exercises", title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("lesson", justify="right")
    table.add_column("exercise", ratio=2)
    table.add_column("what to write", ratio=3)
    if in_workspace:
        table.add_column(f"in {folder}")
    for ex in EXERCISES:
        row = [str(ex.number), str(ex.lesson), ex.title, ex.task]
        if in_workspace:
            state = status(folder, ex)
            style = "green" if state == "passed" else "red" if state == "failed" else "dim" \
                if state in ("not started", "missing") else "yellow"
            row.append(f"[{style}]{state}[/]")
        table.add_row(*row)
    console.print(table)
    if in_workspace:
        _say(console, "\nCheck your work: tinygrad-edu exercise check [N ...]"
                      + ("" if args.dir == _default_dir() else f" --dir {folder}"))
    else:
        _say(console, "\nStart: tinygrad-edu exercise start [DIR]   (writes one file per exercise; "
                      "then tinygrad-edu exercise check)")
    return 0


def _default_dir() -> str:
    from ..exercises.workspace import DEFAULT_WORKSPACE
    return DEFAULT_WORKSPACE


# ---- start -----------------------------------------------------------------------------------------------
def run_start(args) -> int:
    from ..exercises.course import EXERCISES, find
    from ..exercises.workspace import reset, start

    console = _console(args)
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        return _usage_error(args, f"{folder} is a file, not a folder")
    if args.reset:
        code = 0
        for number in dict.fromkeys(args.reset):
            exercise = find(number)
            path = folder / exercise.filename
            if path.exists() and not args.yes:
                question = (f"Replace {path} with a fresh stub? Your version is kept as {path.name}.bak. [y/N] ")
                try:
                    answer = input(question)
                except EOFError:
                    print(f"\nnot reset: no answer to the question (standard input is closed); "
                          f"add --yes to reset exercise {number} without asking", file=sys.stderr)
                    code = 1
                    continue
                if answer.strip().lower() not in ("y", "yes"):
                    _say(console, f"kept {path} as it is")
                    continue
            folder.mkdir(parents=True, exist_ok=True)
            backup = reset(folder, exercise)
            _say(console, f"exercise {number}: a fresh stub in {path}"
                          + (f" (your version is now {backup.name})" if backup else ""))
        return code
    try:
        done = start(folder)
    except OSError as error:
        print(f"tinygrad-edu exercise start: cannot write in {folder}: {error.strerror or error}", file=sys.stderr)
        return 1
    written = [name for name, what in done if what == "written"]
    kept = [name for name, what in done if what == "kept"]
    if written:
        _say(console, f"wrote {len(written)} file(s) in {folder}"
                      + (" (a stub per exercise and a README)" if not kept else f": {', '.join(written)}"))
    if kept and not written:
        _say(console, f"every file is already in {folder}: all {len(kept)} kept, none overwritten")
    elif kept:
        _say(console, f"kept {len(kept)} file(s) already there (not overwritten): {', '.join(kept)}")
    where = "" if args.dir == _default_dir() else f" --dir {folder}"
    _say(console, f"\nNext: open {folder / EXERCISES[0].filename}, replace each `raise NotImplementedError` with your "
                  f"code, then run\n  tinygrad-edu exercise check 1{where}\n"
                  f"(tinygrad-edu exercise list shows all {len(done) - 1}; "
                  f"start {args.dir} --reset N restores one stub)")
    return 0


# ---- solutions -------------------------------------------------------------------------------------------
def run_solutions(args) -> int:
    from ..exercises.workspace import write_solutions

    console = _console(args)
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        return _usage_error(args, f"{folder} is a file, not a folder")
    try:
        done = write_solutions(folder)
    except OSError as error:
        print(f"tinygrad-edu exercise solutions: cannot write in {folder}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    written = [name for name, what in done if what == "written"]
    same = [name for name, what in done if what == "same"]
    kept = [name for name, what in done if what == "kept"]
    if written:
        _say(console, f"wrote {len(written)} reference solution(s) in {folder}")
    if same:
        _say(console, f"{len(same)} already there, unchanged")
    if kept:
        _say(console, f"kept {len(kept)} file(s) that differ from the reference, not overwritten: "
                      f"{', '.join(kept)}")
    _say(console, f"\nCheck them: tinygrad-edu exercise check --dir {folder}")
    return 0


# ---- check -----------------------------------------------------------------------------------------------
STATUS_STYLE = {"passed": "bold green", "failed": "bold red", "not started": "dim"}
OUTPUT_LINES = 8
WIDE = 110          # from this many columns on, the failure and the hint get a column each


def _backends(args) -> tuple[str, ...]:
    from ..exercises.checking import available_backends
    chosen = getattr(args, "backend", None)
    return (chosen,) if chosen else available_backends()


def run_check(args) -> int:
    from ..exercises import EXERCISES
    from ..exercises.runner import DEFAULT_TIMEOUT, check_file
    from ..exercises.workspace import is_workspace, save_results

    if args.trace is not None:
        if args.numbers or args.json:
            return _usage_error(args, "--trace N runs one exercise's example alone: leave out the exercise "
                                      "numbers and --json")
        return run_trace(args)
    folder = Path(args.dir)
    if not folder.is_dir():
        hint = ("run `tinygrad-edu exercise start` first" if args.dir == _default_dir()
                else f"`tinygrad-edu exercise start {args.dir}` makes one")
        return _usage_error(args, f"no workspace at {folder}: {hint}")
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print('tinygrad-edu exercise check: the checks need hypothesis: pip install "tinygrad-edu[test]"',
              file=sys.stderr)
        return 2
    chosen = [ex for ex in EXERCISES if not args.numbers or ex.number in args.numbers]
    backends = _backends(args)
    console = _console(args)
    progress = None if args.json or not console.is_terminal else _console_err(args)
    started = time.perf_counter()
    results = []
    for ex in chosen:
        if progress is not None:
            progress.print(f"checking {ex.number} · {ex.title} ...", end="\r", markup=False, highlight=False,
                           soft_wrap=True)
        results.append(check_file(ex, folder / ex.filename, backends, timeout=args.timeout or DEFAULT_TIMEOUT,
                                  examples=args.examples))
        if progress is not None:
            progress.print(" " * 60, end="\r")
    seconds = time.perf_counter() - started
    if is_workspace(folder):
        save_results(folder, results)
    if args.json:
        print(json.dumps(_json_report(folder, backends, results, seconds), indent=2, ensure_ascii=False))
    else:
        _print_report(console, folder, backends, results, seconds)
    return 0 if all(r.passed for r in results) else 1


def _console_err(args):
    output = getattr(args, "output", None)
    if output is not None:
        return output.console(stderr=True)
    from rich.console import Console
    return Console(stderr=True)


def _json_report(folder: Path, backends, results, seconds: float) -> dict:
    counts = {status: sum(1 for r in results if r.status == status) for status in ("passed", "failed", "not started")}
    return {"workspace": str(folder), "backends": list(backends), "total": len(results),
            "passed": counts["passed"], "failed": counts["failed"], "not_started": counts["not started"],
            "all_passed": all(r.passed for r in results), "seconds": round(seconds, 3),
            "exercises": [r.to_json() for r in results]}


def _print_report(console, folder: Path, backends, results, seconds: float) -> None:
    from rich.table import Table
    from rich.text import Text

    wide = console.width >= WIDE
    problems = any(not r.passed for r in results)      # all passed: no empty failure and hint columns
    table = Table(title=f"exercises in {folder} · backends: {', '.join(backends)}", title_justify="left",
                  show_lines=problems)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("exercise", ratio=2, overflow="fold")
    table.add_column("status", no_wrap=True)
    if problems and wide:
        table.add_column("first failure", ratio=5, overflow="fold")
        table.add_column("hint", ratio=4, overflow="fold")
    elif problems:      # one column for both, the hint under the failure: more room for the words
        table.add_column("first failure · hint", ratio=7, overflow="fold")
    for r in results:
        done = sum(1 for _, s in r.steps if s == "passed")
        status = Text(r.status, style=STATUS_STYLE.get(r.status, ""))
        status.append(f"\n{done}/{len(r.steps)} checks · {r.seconds:.1f} s" if problems else
                      f"  {done}/{len(r.steps)} checks · {r.seconds:.1f} s", style="dim")
        cells = [str(r.exercise.number), Text(r.exercise.title), status]
        failure = Text(r.failure or "—")
        hint = Text(r.hint or "", style="italic") if not r.passed else Text("")
        if problems and wide:
            cells += [failure, hint]
        elif problems:
            if hint.plain:
                failure.append("\nhint: ", style="bold").append_text(hint)
            cells.append(failure)
        table.add_row(*cells)
    console.print(table)
    for r in results:
        lines = r.output.strip("\n").splitlines()
        if lines and not r.passed:
            shown = lines[:OUTPUT_LINES] + ([f"... ({len(lines) - OUTPUT_LINES} more lines)"]
                                            if len(lines) > OUTPUT_LINES else [])
            console.print(Text(f"what {Path(r.path).name} printed while checked:", style="dim"))
            console.print(Text("\n".join("  " + line for line in shown)), soft_wrap=True)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("passed", "failed", "not started")}
    summary = Text(f"{counts['passed']} of {len(results)} passed", style="bold green" if counts["passed"] ==
                   len(results) else "bold")
    for status in ("failed", "not started"):
        if counts[status]:
            summary.append(f" · {counts[status]} {status}", style=STATUS_STYLE[status])
    summary.append(f" · {seconds:.1f} s", style="dim")
    console.print(summary)


# ---- trace -----------------------------------------------------------------------------------------------
def run_trace(args) -> int:
    import traceback

    from ..exercises.checking import NotImplementedYet
    from ..exercises.course import find
    from ..exercises.runner import FrameworkGuard, LoadError, load_student_file
    from ..trace.graph import graph_tree
    from ..trace.render import render_event, summary_table
    from ..trace.target import TargetError, run_target
    from .trace import present

    exercise = find(args.trace)
    if exercise.trace is None:
        traceable = ", ".join(str(ex.number) for ex in _all() if ex.trace is not None)
        return _usage_error(args, f"exercise {exercise.number} ({exercise.title}) has no example to trace; "
                                  f"these do: {traceable}")
    path = Path(args.dir) / exercise.filename
    if not path.is_file():
        return _usage_error(args, f"no file {path}: `tinygrad-edu exercise start` writes the stubs")
    guard = FrameworkGuard()
    try:
        module = load_student_file(path, exercise.number)
        result = run_target(lambda: exercise.trace(module))
    except (NotImplementedYet, NotImplementedError) as error:
        print(f"tinygrad-edu exercise: exercise {exercise.number} is not written yet ({error}): nothing to trace",
              file=sys.stderr)
        return 1
    except LoadError as error:
        print(f"tinygrad-edu exercise: {error.message}", file=sys.stderr)
        return 1
    except TargetError as error:
        print(f"tinygrad-edu exercise: {error}", file=sys.stderr)
        return 1
    except Exception:  # the student's own code failed: show where, as Python would
        traceback.print_exc()
        print(f"tinygrad-edu exercise: your code in {path} raised an error while tracing (above)", file=sys.stderr)
        return 1
    finally:
        if guard.changes():
            guard.restore()
    events = list(result.tape)
    if not events:
        print(f"tinygrad-edu exercise: exercise {exercise.number}'s example recorded nothing", file=sys.stderr)
        return 1
    pages = [render_event(e, position=i, total=len(events)) for i, e in enumerate(events, start=1)]
    title = f"exercise {exercise.number} · {exercise.title}, with your code"
    view = argparse.Namespace(step=True, pages=None, width=getattr(args, "width", None), output=args.output)
    return present(view, pages, graph=graph_tree(result.tape), summary=summary_table(events, title=title))


def _all():
    from ..exercises import EXERCISES
    return EXERCISES
