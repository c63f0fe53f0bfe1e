"""``tinygrad-edu train NAME``: train one of the lecture's models with a live progress bar.

NAME is one of mlp-block, facts, orthogonal, superposition, transformer. Prints the loss curve as a
sparkline, the final metrics as a table and the model's own pictures; ``--json`` prints only the
final metrics as one JSON object on stdout; ``--save PATH`` writes a checkpoint (see
`tinygrad_edu.serialization`; a picture's name such as out.svg is refused: ``--export`` keeps what
the command prints). Model-specific settings go through ``--set KEY=VALUE`` (e.g. ``--set dim=32``);
every setting, and every file to write, is checked before training starts (a bad one is a usage
error, exit 2). The same seed gives the same numbers.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import sys
import time

from . import checkpoint_path, output_path_problem, positive_int, terminal_width

HELP = "train one of the lecture's models (mlp-block, facts, orthogonal, superposition, transformer)"

# Settings the command line owns; --set may not override them.
_RESERVED = {"steps", "seed", "on_step"}


def _setting(text: str) -> tuple[str, object]:
    """KEY=VALUE -> (key, value); the value is read as JSON when it can be (numbers, lists, true/false)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. dim=32), got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tinygrad_edu.models import TASKS

    parser.add_argument("model", choices=list(TASKS), metavar="NAME",
                        help="; ".join(f"{k}: {v[2]}" for k, v in TASKS.items()))
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="optimisation steps (default: the model's own, chosen for the backend)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same numbers")
    parser.add_argument("--json", action="store_true",
                        help="print only the final metrics, as one JSON object on stdout")
    parser.add_argument("--save", metavar="PATH", type=checkpoint_path, default=None,
                        help="write a checkpoint (JSON) of the trained model to PATH, e.g. model.json "
                             "(to keep what is printed, use --export FILE.svg)")
    parser.add_argument("--set", dest="settings", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                        help="a model-specific setting, e.g. --set dim=32 --set lr=0.005 (repeatable)")
    parser.add_argument("--width", type=terminal_width, default=None, help="output width in characters")


def _task(name: str):
    from tinygrad_edu.models import TASKS

    module_name, function_name, _ = TASKS[name]
    module = importlib.import_module(module_name)
    return module, getattr(module, function_name)


def _usage_error(message: str) -> int:
    print(f"usage: tinygrad-edu train NAME [options]\ntinygrad-edu train: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    import tinygrad_edu as tg
    from tinygrad_edu.notebook import jupyter_progress

    module, train = _task(args.model)
    parameters = {k: p for k, p in inspect.signature(train).parameters.items() if k not in _RESERVED}
    try:
        options = settings(args.model, parameters, args.settings)
    except SettingError as error:
        return _usage_error(str(error))

    # With --json, stdout carries only the JSON: the progress bar goes to stderr, and only on a terminal.
    out = None if args.json else args.output.console()
    progress_console = args.output.console(stderr=True) if args.json else out
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss [cyan]{task.fields[loss]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=progress_console, disable=args.json and not progress_console.is_terminal)
    progress = jupyter_progress(progress)     # in a notebook without ipywidgets: a bar that needs none
    task_id = None
    started = False

    def on_step(step: int, total: int, loss: float) -> None:
        nonlocal task_id, started
        if task_id is None:         # the bar appears with the first step, so a rejected setting prints none
            started = True
            progress.start()
            task_id = progress.add_task(f"train {args.model}", total=total, loss="…")
        progress.update(task_id, completed=step, loss=f"{loss:.4g}")

    start = time.perf_counter()
    try:
        result = train(steps=args.steps, seed=args.seed, on_step=on_step, **options)
    except ValueError as error:       # the models reject impossible sizes with a ValueError
        if isinstance(error, tg.ShapeError):
            raise
        return _usage_error(f"{args.model}: {error}")
    finally:
        if started:         # even when Ctrl-C came after the bar appeared but before task_id was set
            progress.stop()
    seconds = time.perf_counter() - start

    saved = None
    if args.save:
        try:
            saved = str(tg.save(result.state, args.save))
        except OSError as error:
            print(f"tinygrad-edu train: cannot write the checkpoint {args.save}: {error.strerror or error}",
                  file=sys.stderr)
            return 1

    if args.json:
        payload = {"model": args.model, "seed": args.seed, "backend": tg.get_backend(),
                   "seconds": round(seconds, 3), "metrics": _json_safe(result.metrics),
                   "config": _json_safe(result.config)}
        if saved:
            payload["saved"] = saved
        print(json.dumps(payload, allow_nan=False))
        return 0

    _print_results(out, args, module, result, seconds, saved)
    return 0


class SettingError(ValueError):
    """A ``--set KEY=VALUE`` that the model cannot take (the message says why and what is allowed)."""


# What a setting may be, beyond its type. Whole-number settings (sizes, counts) are at least 1 unless
# listed in _AT_LEAST; numbers are finite and, when listed in _ABOVE, above (or at least) a bound.
_AT_LEAST = {"vectors": 2}
_ABOVE = {"lr": (0.0, True), "lr_end": (0.0, False), "noise": (0.0, False), "alpha": (0.0, False),
          "power": (0.0, True)}
_FRACTIONS = {"sparsities"}        # probabilities of a feature being absent: each in [0, 1)
_FILES = {"figure"}                # settings that name a file to write


def settings(model: str, parameters: dict, pairs) -> dict:
    """The ``--set`` pairs as keyword arguments for the training function, every value checked.

    Raises `SettingError` naming the setting, what it may be and what it got.
    """
    options = {}
    for key, value in pairs:
        if key not in parameters:
            raise SettingError(f"--set {key}=...: {model} has no setting {key!r}; "
                               f"its settings are: {', '.join(sorted(parameters))}")
        default = parameters[key].default
        problem = _type_problem(default, value) or _value_problem(key, default, value)
        if problem:
            raise SettingError(f"--set {key}={_shown(value)}: {problem}")
        if default is None or (isinstance(default, int) and not isinstance(default, bool)):
            value = int(value)
        options[key] = value
    values = {k: options.get(k, p.default) for k, p in parameters.items()}
    d_model, n_heads = values.get("d_model"), values.get("n_heads")
    if isinstance(d_model, int) and isinstance(n_heads, int) and d_model % n_heads:
        raise SettingError(f"--set n_heads={n_heads}: n_heads must divide d_model={d_model} "
                           "(each attention head gets d_model / n_heads dimensions)")
    return options


def _shown(value) -> str:
    return json.dumps(value) if isinstance(value, (list, bool)) or value is None else str(value)


def _value_problem(key: str, default, value) -> str | None:
    """Why a value of the right type is still not allowed (None when it is)."""
    if isinstance(value, bool) or isinstance(default, bool):
        return None
    if isinstance(value, str):
        if key in _FILES and value:
            return output_path_problem(value)
        return None
    numbers = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        return "expected at least one value"
    whole = default is None or (isinstance(default, int)) or (
        isinstance(default, (list, tuple)) and default and all(isinstance(v, int) for v in default))
    for number in numbers:
        if isinstance(number, float) and not math.isfinite(number):
            return f"{key} must be a finite number"
        if key in _FRACTIONS:
            if not 0 <= number < 1:
                return f"{key} must be in [0, 1) (the chance that a feature is absent), got {number:g}"
        elif key in _ABOVE:
            low, strict = _ABOVE[key]
            if number < low or (strict and number == low):
                return f"{key} must be {'>' if strict else '>='} {low:g}, got {number:g}"
        elif whole and (number < _AT_LEAST.get(key, 1) or not float(number).is_integer()):
            return f"{key} must be a whole number >= {_AT_LEAST.get(key, 1)}, got {number:g}"
    return None


def _type_problem(default, value) -> str | None:
    """Why ``value`` cannot replace a setting whose default is ``default`` (None when it can).

    Settings whose default is None are sizes chosen per backend, or a count: they take integers.
    """
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if default is None or isinstance(default, int):
        return None if is_number and float(value).is_integer() else "expected an integer"
    if isinstance(default, float):
        return None if is_number else "expected a number"
    if isinstance(default, (tuple, list)):
        ok = is_number or isinstance(value, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        return None if ok else "expected a number or a list such as [0.9, 0.99]"
    if isinstance(default, str):
        return None if isinstance(value, str) else "expected a word"
    return None


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _print_results(out, args, module, result, seconds: float, saved: str | None) -> None:
    from rich.table import Table

    import tinygrad_edu as tg

    from .layout import fitted

    out.print(f"[bold]loss[/] {sparkline(result.losses, width=min(60, max(10, out.width - 30)))}")
    settings = ", ".join(f"{k}={v}" for k, v in result.config.items() if k != "backend")
    out.print(f"[dim]settings: {settings}; backend {tg.get_backend()}; {seconds:.1f} s[/]")
    table = Table(title=f"{args.model}: results", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    shown = result.details.get("summary") or list(result.metrics)
    for key in shown:
        value = result.metrics[key]
        table.add_row(key.replace("_", " "), _format(value))
    out.print(fitted(table))
    report = getattr(module, "report", None)
    if report is not None:
        for part in report(result):
            out.print(fitted(part))        # a report's tables keep every word whole, at 80 columns too
    if saved:
        out.print(f"checkpoint saved to [bold]{saved}[/] (load it with tinygrad_edu.load)")


def _format(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4f}"
        return f"{value:.3e}"
    return str(value)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, width: int = 60) -> str:
    """The loss curve in one line of block characters (log scale when it spans more than 100×)."""
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        return "(no steps)"
    buckets = []
    size = len(values) / min(width, len(values))
    for b in range(min(width, len(values))):
        chunk = values[int(b * size):max(int((b + 1) * size), int(b * size) + 1)]
        buckets.append(sum(chunk) / len(chunk))
    low, high = min(buckets), max(buckets)
    log = low > 0 and high / low > 100
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = scale(low), scale(high)
    span = hi - lo or 1.0
    line = "".join(_BARS[min(len(_BARS) - 1, int((scale(v) - lo) / span * (len(_BARS) - 1) + 0.5))] for v in buckets)
    return f"{values[0]:.4g} {line} {values[-1]:.4g}" + (" (log scale)" if log else "")
