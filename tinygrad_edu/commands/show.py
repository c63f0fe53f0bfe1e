"""``tinygrad-edu show michael-jordan``: the hand-built MLP block that stores one fact, every dot product shown."""
from __future__ import annotations

import argparse
import json

from . import positive_int, terminal_width

HELP = "show a hand-built example (michael-jordan: the MLP block that stores a fact)"

EXAMPLES = ["michael-jordan"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("example", choices=EXAMPLES, help="which example to show")
    parser.add_argument("--dim", type=positive_int, default=12288,
                        help="dimension of the random unit vectors (default 12288, GPT-3's d_model)")
    parser.add_argument("--exact-only", action="store_true",
                        help="show only the orthonormal version (exact numbers)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random directions (default 0)")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object instead")
    parser.add_argument("--width", type=terminal_width, default=None, help="output width in characters")


def run(args: argparse.Namespace) -> int:
    from tinygrad_edu.models import michael_jordan as mj

    examples = [mj.hand_built_example()]
    if not args.exact_only:
        examples.append(mj.hand_built_example(dim=args.dim, seed=args.seed))
    if args.json:
        print(json.dumps({ex["kind"]: _as_json(ex) for ex in examples}))
        return 0
    from .layout import fitted

    con = args.output.console()
    con.print(_intro())
    for ex in examples:
        for part in _render(ex):
            con.print(fitted(part))       # every name and number whole, at 80 columns too
    return 0


def _as_json(ex: dict) -> dict:
    return {"dim": ex["dim"], "seed": ex["seed"], "dots": ex["dots"],
            "cases": [{k: c[k] for k in ("label", "pre_activation", "neurons", "input", "added", "output")}
                      for c in ex["cases"]]}


def _intro():
    from rich.panel import Panel

    # Short lines, so the formulas are not broken at 80 columns.
    return Panel(
        "The MLP block:  out = x + W_down · relu(W_up · x + b_up) + b_down\n"
        "Neuron 0 stores [b]Michael Jordan plays basketball[/b]:\n"
        "  row 0 of W_up = [cyan]Michael[/] + [cyan]Jordan[/], b_up[0] = −1\n"
        "    → neuron 0 = relu((M + J)·x − 1): ≈1 only when both names are in x\n"
        "      (an AND gate)\n"
        "  column 0 of W_down = [magenta]basketball[/]\n"
        "    → when neuron 0 fires, the basketball direction is added to x\n"
        "Neuron 1 stores [b]Michael Phelps plays swimming[/b] the same way.\n"
        "All other weights are 0.",
        title="How an MLP block can store a fact", expand=False)


def _fmt(value: float, exact: bool) -> str:
    if exact:
        return f"{value:g}" if value != 0 else "0"
    return f"{value:+.4f}"


def _table(title: str, label: str):
    """A compact table (no vertical rules, one space between columns): eight columns of signed numbers
    and the longest names fit in 80 columns; `fitted` keeps every name and number whole."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False)
    table.add_column(label, no_wrap=True)
    return table


def _number_column(table, header: str) -> None:
    table.add_column(header, justify="right")


def _render(ex: dict) -> list:
    exact = ex["kind"] == "orthonormal"
    names = ex["directions"].names
    if exact:
        heading = f"Orthonormal directions in {ex['dim']} dimensions (one per word): every number is exact"
    else:
        heading = (f"Random unit vectors in {ex['dim']:,} dimensions (seed {ex['seed']}): "
                   "nearly orthogonal, so the numbers are ≈ 1 and ≈ 0")
    parts = [f"\n[bold]{heading}[/]"]

    dots = _table("Dot products between the directions (cos of the angle)", "")
    for n in names:
        _number_column(dots, n)
    for a in names:
        dots.add_row(a, *[_cell(ex["dots"][a][b], exact, a == b) for b in names])
    parts.append(dots)

    neurons = _table("Up projection and ReLU: the neurons", "input x")
    for neuron, first, last, _sport in ex["facts"]:
        _number_column(neurons, f"({first}+{last})·x")
        _number_column(neurons, f"neuron {neuron} = relu(… − 1)")
    for case in ex["cases"]:
        row = [case["label"]]
        for neuron, first, last, _sport in ex["facts"]:
            dot = case["input"][first] + case["input"][last]
            value = case["neurons"][neuron]
            row += [_fmt(dot, exact), _highlight(_fmt(value, exact), value > 0.5)]
        neurons.add_row(*row)
    parts.append(neurons)

    out = _table("Down projection and residual: the output's dot product with each direction", "input x")
    for n in names:
        _number_column(out, n)
    for case in ex["cases"]:
        cells = []
        for n in names:
            value, added = case["output"][n], case["added"][n]
            cells.append(_highlight(_fmt(value, exact), abs(added) > 0.5))
        out.add_row(case["label"], *cells)
    parts.append(out)
    mj = next(c for c in ex["cases"] if c["label"] == "Michael Jordan")
    others = [c for c in ex["cases"] if c["label"] != "Michael Jordan"]
    worst = max(abs(c["output"]["basketball"]) for c in others)
    rest = "exactly 0" if worst == 0 else f"at most {worst:.4f} in size"
    parts.append(f"'Michael Jordan' gains basketball: {_fmt(mj['output']['basketball'], exact)}; "
                 f"every other input's basketball component is {rest}.")
    return parts


def _cell(value: float, exact: bool, diagonal: bool) -> str:
    text = _fmt(value, exact)
    return f"[dim]{text}[/]" if not diagonal else text


def _highlight(text: str, on: bool) -> str:
    return f"[bold green]{text}[/]" if on else text
