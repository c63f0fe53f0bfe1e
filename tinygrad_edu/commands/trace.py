"""``tinygrad-edu trace [TARGET]``: record a computation and show every step with Rich.

TARGET is ``module:function`` or ``path/to/file.py:function`` (the default is the hand-built
Michael Jordan MLP block). The function is called with no arguments while every forward op,
backward op and optimizer update is recorded; what it returns says what else to do:

  None            nothing more
  a Tensor        the loss: backpropagated, unless the function already ran a backward pass
  a Directions    show every vector's projections onto the named directions
  a tuple         of the above, in any order
  a dict          keys "loss", "directions", "modules" (names parameters from the module tree,
                  e.g. {"block": block}) and "optimizer" (stepped after the backward pass)

A tensor is called by its ``.named("h")`` name, else after the variable of the function that holds
it (``h``, ``loss``; ``model.weight`` for a Module's parameters), else t1, t2, ...

Without ``--step`` (or when standard input is not a terminal) every step is printed, then a
summary table and the computation graph. With ``--step`` in a terminal, one page at a time, drawn in
place: Enter/n next, p/b back, a number and Enter to jump, ↑ ↓ (j k), PgUp/PgDn and space scroll a
tall page under its title and formula, g graph, s summary, ? help, q quit.

``--graph FILE.svg`` also draws the computation graph as a picture (``FILE.dot``: Graphviz's text), and
``--save FILE.json`` keeps the whole trace as data (``tinygrad_edu.trace.load_json`` reads it back).

``--jit`` runs the function (with its backward pass and optimizer step) as one step through ``tg.jit``
instead and shows the schedule the JIT made of it: the kernels in order, what was fused, the buffers,
the generated code (by default: the Michael Jordan block, trained one SGD step per call).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Sequence

from ..trace.events import PHASES
from ..trace.recorder import DEFAULT_MAX_EVENTS

HELP = "record a computation and show each forward, backward and update step (--step to drive it)"
EXPORT_FLAGS = ("--export",)   # --save FILE.svg|.html|.txt does the same, --save FILE.json keeps the trace

DEFAULT_TARGET = "tinygrad_edu.commands.demo:michael_jordan"
MIN_WIDTH = 40


def width_argument(text: str) -> int:
    """``--width``: a whole number of columns, at least 40."""
    try:
        width = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--width must be a whole number of columns, got {text!r}") from None
    if width < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"--width must be at least {MIN_WIDTH} columns, got {width}")
    return width


def max_events_argument(text: str) -> int | None:
    """``--max-events``: how many events the trace keeps, a whole number; 0 keeps every one (None)."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--max-events must be a whole number of events (0: keep all), "
                                         f"got {text!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"--max-events must be 0 (keep all) or more, got {count}")
    return count or None


def add_display_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``trace`` and ``demo`` share."""
    parser.add_argument("--step", action="store_true",
                        help="step through one page at a time, driven by keys (in a terminal)")
    parser.add_argument("--width", type=width_argument, default=None, metavar="COLUMNS",
                        help="draw for this many columns (default: the terminal's width)")
    parser.add_argument("--pages", type=pages_argument, default=None, metavar="N[-M]",
                        help="show only page N (or pages N to M), without the summary and graph")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n", 1)[1].replace("``", "") if __doc__ else None
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("target", nargs="?", default=DEFAULT_TARGET, metavar="TARGET",
                        help="module:function or path/to/file.py:function (default: the Michael Jordan block)")
    parser.add_argument("--phase", choices=PHASES, default=None,
                        help="show only the forward, backward or update steps")
    parser.add_argument("--max-events", type=max_events_argument, default=DEFAULT_MAX_EVENTS, metavar="N",
                        help=f"keep the first N events (default {DEFAULT_MAX_EVENTS}; later ones are counted, not "
                             "copied, so a long run stays small); 0 keeps every one")
    parser.add_argument("--graph", type=graph_file, default=None, metavar="FILE",
                        help="also draw the computation graph as FILE: .svg (a picture, drawn without "
                             "Graphviz) or .dot (Graphviz's text)")
    parser.add_argument("--save", action=SaveAction, dest="save_json", default=None, metavar="FILE",
                        help="keep the trace: FILE.json holds every step (names, shapes, values, gradients; "
                             "trace.load_json reads it back); FILE.svg, .html or .txt keeps what was printed, "
                             "as --export")
    parser.add_argument("--jit", action="store_true",
                        help="capture the function as one training step with tg.jit and show its schedule "
                             "(kernels in order, fused loops, buffers, the generated code)")
    add_display_arguments(parser)


class SaveAction(argparse.Action):
    """``--save FILE``: a .json file keeps the whole trace as data; .svg, .html or .txt keeps the printout."""

    def __call__(self, parser, namespace, values, option_string=None):
        from . import output_path_problem
        from .output import EXPORT_SUFFIXES

        suffix = Path(values).suffix.lower()
        if suffix != ".json" and suffix not in EXPORT_SUFFIXES:
            raise argparse.ArgumentError(self, f"the file must end in .json (the trace itself) or in "
                                               f"{', '.join(EXPORT_SUFFIXES)} (what was printed), got {values!r}")
        problem = output_path_problem(values)       # checked before the command runs, not after
        if problem:
            raise argparse.ArgumentError(self, problem)
        if suffix == ".json":
            setattr(namespace, self.dest, values)
            return
        namespace.export = values


def graph_file(text: str) -> str:
    """``--graph``: a file name ending in .svg or .dot, in a folder that can be written."""
    from ..trace.picture import GRAPH_SUFFIXES
    from . import output_path_problem

    if Path(text).suffix.lower() not in GRAPH_SUFFIXES:
        raise argparse.ArgumentTypeError(f"--graph draws .svg or .dot, got {text!r}")
    problem = output_path_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def pages_argument(text: str) -> tuple[int, int]:
    """``--pages``: one page number (``4``) or a range (``2-5``), counted from 1."""
    first, _, last = text.partition("-")
    try:
        start, stop = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--pages takes a page number or a range such as 2-5, got {text!r}") from None
    if start < 1 or stop < start:
        raise argparse.ArgumentTypeError(f"--pages {text}: pages count from 1 and a range goes upwards")
    return start, stop


def present(args, pages: Sequence, graph=None, summary=None, stdin=None, notice: str | None = None) -> int:
    """Show ``pages``: stepped by keys in a terminal with ``--step``, else all printed.

    ``--save FILE`` keeps every page (with the summary and graph) as printed without ``--step``.
    ``notice`` (what the trace left out) is printed last, or shown in the status bar when stepping.
    """
    from ..trace import stepper

    stdin = stdin if stdin is not None else sys.stdin
    if getattr(args, "pages", None):
        start, stop = args.pages
        if stop > len(pages):
            print(f"tinygrad-edu: --pages {start}-{stop}: there are only {len(pages)} pages", file=sys.stderr)
            return 2
        pages, graph, summary = list(pages)[start - 1:stop], None, None
    console = args.output.console()
    interactive = bool(getattr(args, "step", False)) and _is_tty(stdin) and console.is_terminal
    if not interactive:
        _print_all(console, pages, graph, summary, notice)
        return 0
    # The screen shows one page at a time; the export file gets them all, printed off screen.
    kept = args.output.export_console()
    if kept is not None:
        _print_all(kept, pages, graph, summary, notice)
    # Ctrl-C goes on up to the command line ("interrupted", exit 130) once the screen and the
    # terminal's settings are given back by the two context managers.
    with stepper.terminal_keys(stdin) as keys:
        stepper.run(console, pages, keys, graph=graph, summary=summary, message=notice or "")
    return 0


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print_all(console, pages, graph, summary, notice=None) -> None:
    for page in pages:
        console.print(page)
    if summary is not None:
        console.print(summary)
    if graph is not None:
        console.print(graph)
    if notice:
        console.print(notice, style="bold yellow", highlight=False)


def run(args: argparse.Namespace) -> int:
    from ..trace.graph import graph_tree
    from ..trace.render import render_event, summary_table
    from ..trace.target import AfterTargetError, TargetError, load_target, run_target

    if getattr(args, "jit", False):
        return _run_jit(args)
    try:
        function = load_target(args.target)
        result = run_target(function, max_events=args.max_events)
    except TargetError as error:
        print(f"tinygrad-edu trace: error: {error}", file=sys.stderr)
        return 2
    except AfterTargetError as error:  # the function returned; what the trace ran for it failed
        traceback.print_exception(error.__cause__)
        print(f"tinygrad-edu trace: {args.target} returned, then {error.stage} raised an error (above)",
              file=sys.stderr)
        return 1
    except Exception:  # the student's own code failed: show where, as Python would
        traceback.print_exc()
        print(f"tinygrad-edu trace: the traced function {args.target} raised an error (above)", file=sys.stderr)
        return 1
    events = [e for e in result.tape if args.phase is None or e.phase == args.phase]
    if not events:
        what = f"{args.phase} steps" if args.phase else "ops"
        print(f"tinygrad-edu trace: {args.target} ran no {what} (nothing was recorded)", file=sys.stderr)
        return 1
    pages = [render_event(e, position=i, total=len(events)) for i, e in enumerate(events, start=1)]
    title = f"steps of {args.target}" + (f" ({args.phase})" if args.phase else "")
    note = result.tape.cap_note()
    if note:
        title += f" (the first {len(result.tape)} of {result.tape.seen})"
    code = present(args, pages, graph=graph_tree(result.tape), summary=summary_table(events, title=title),
                   notice=note and f"{note}; --max-events to change")
    if code == 0 and getattr(args, "graph", None):
        code = _write_graph(result.tape, args.graph, f"computation graph of {args.target}")
    if code == 0 and getattr(args, "save_json", None):
        code = _write_json(result.tape, args.save_json)
    return code


def _run_jit(args: argparse.Namespace) -> int:
    """``--jit``: the target as one step through tg.jit; print the schedule it was compiled into."""
    from ..jit import JitError
    from ..jit.explain import explain_target
    from ..trace.target import TargetError, load_target

    target = "tinygrad_edu.commands.demo:michael_jordan_step" if args.target == DEFAULT_TARGET else args.target
    try:
        explanation = explain_target(load_target(target))
    except TargetError as error:
        print(f"tinygrad-edu trace: error: {error}", file=sys.stderr)
        return 2
    except JitError as error:
        print(f"tinygrad-edu trace --jit: {args.target} cannot be replayed: {error}", file=sys.stderr)
        return 1
    except Exception:  # the student's own code failed: show where, as Python would
        traceback.print_exc()
        print(f"tinygrad-edu trace: the traced function {args.target} raised an error (above)", file=sys.stderr)
        return 1
    args.output.console().print(explanation)
    return 0


def _write_json(tape, path: str) -> int:
    """``--save FILE.json``: the whole trace as data (every phase, whatever ``--phase`` showed), written whole."""
    from ..trace.jsonfile import dumps
    from .output import _write_whole

    try:
        _write_whole(Path(path), dumps(tape) + "\n")
    except OSError as error:
        print(f"tinygrad-edu trace: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"trace saved to {path} (read it back with tinygrad_edu.trace.load_json)", file=sys.stderr)
    return 0


def _write_graph(tape, path: str, title: str) -> int:
    """``--graph FILE``: the picture (.svg) or the DOT text (.dot) of the whole tape, written whole."""
    from ..trace.picture import ComputationGraph
    from .output import _write_whole

    graph = ComputationGraph.from_tape(tape, title=title)
    text = graph.svg() if path.lower().endswith(".svg") else graph.dot()
    try:
        _write_whole(Path(path), str(text))
    except OSError as error:
        print(f"tinygrad-edu trace: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"graph saved to {path}", file=sys.stderr)
    return 0
