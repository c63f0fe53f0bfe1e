"""``tinygrad-edu bench``: time one training step of the MLP block, every way it can be written.

Both backends, hand-written pure Python and NumPy, micrograd and PyTorch (when installed) run the same
step from the same float64 numbers; the losses after three steps must agree before anything is timed.
Then the cost of the trace hook when tracing is off, and backward through a chain of 100,000 ops.
The code lives in ``benchmarks/`` at the top of the source tree.
"""
from __future__ import annotations

import argparse
import json

from . import positive_int, terminal_width

HELP = "time a training step of the MLP block on both backends, against hand-written code, micrograd and PyTorch"

SIZE_NAMES = ("tiny", "small", "medium", "large")


def _sizes(text: str) -> tuple:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SIZE_NAMES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown size {', '.join(unknown) or repr(text)}: "
                                         f"choose from {','.join(SIZE_NAMES)}")
    return names


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value:g}")
    return value


def _chain(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of ops, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (skip) or more, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=_sizes, default=SIZE_NAMES, metavar="LIST",
                        help="comma-separated sizes (batch, d_model, d_hidden): tiny (4, 8, 32), "
                             "small (16, 32, 128), medium (32, 64, 256), large (64, 256, 1024); default: all")
    parser.add_argument("--repeat", type=positive_int, default=30, metavar="N",
                        help="timed steps per implementation and size, at most (default 30)")
    parser.add_argument("--budget", type=_positive_float, default=10.0, metavar="SECONDS",
                        help="stop timing an implementation after this long, once it has one step (default 10)")
    parser.add_argument("--chain", type=_chain, default=100_000, metavar="OPS",
                        help="length of the op chain to backpropagate through; 0 skips it (default 100000)")
    parser.add_argument("--no-engine", action="store_true",
                        help="skip the trace-hook and op-chain measurements")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--width", type=terminal_width, default=None, help="width of the tables in characters")


def _benchmarks():
    """The benchmark suite: the package tinygrad_edu.benchmarks (the benchmarks/ folder of the source tree)."""
    try:
        from tinygrad_edu.benchmarks import suite
    except ImportError:
        return None
    return suite


def run(args: argparse.Namespace) -> int:
    suite = _benchmarks()
    err = args.output.console(stderr=True)
    if suite is None:
        err.print("bench: the benchmark suite (tinygrad_edu.benchmarks) is not installed; "
                  "reinstall tinygrad-edu (pip install -e . in a clone)")
        return 1
    backends = (args.backend,) if args.backend else ("python", "numpy")
    log = (lambda message: err.print(f"[dim]… {message}[/]")) if err.is_terminal else None
    results = suite.run(sizes=args.sizes, repeat=args.repeat, budget=args.budget, backends=backends,
                        engine=not args.no_engine, chain=args.chain, log=log)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        suite.render(results, args.output.console())
    return 0 if results["all_agree"] else 1
