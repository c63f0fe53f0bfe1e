"""``tinygrad-edu probe MODEL [INPUT]``: which neurons store a fact? Hooks, ablation and patching on one input.

MODEL is ``michael-jordan`` (the hand-built block: exact numbers), ``facts`` (a fact store, trained here
like ``train facts``, with the same ``--steps``, ``--seed`` and ``--set``) or ``transformer`` (the mini
transformer, trained here too: minutes on the pure-Python backend, so ``--load`` a checkpoint written by
``train transformer --save`` to skip that). INPUT defaults to "Michael Jordan".

For the input it shows the neurons that fire and what each writes along the sports' directions, the
answer with each top neuron switched off (``--ablation zero`` or ``mean``), another input ("Michael
Phelps", or ``--into``) run with this input's neurons patched in, and the inputs that make each top neuron
fire most. ``--json`` prints all of it as one JSON object (see `tinygrad_edu.probe`).
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys

from . import positive_int

HELP = "look inside a model: the neurons that fire for an input, ablated and patched (michael-jordan, facts, transformer)"

MODELS = {
    "michael-jordan": "the hand-built block (one AND-gate neuron per fact, exact numbers)",
    "facts": "a fact store trained here (as `train facts`; --set facts=40 --set d_hidden=16 for superposition)",
    "transformer": "the mini transformer trained here (as `train transformer`; or --load its checkpoint)",
}
USAGE = "usage: tinygrad-edu probe MODEL [INPUT] [options]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .train import _setting

    parser.add_argument("model", choices=list(MODELS), metavar="MODEL",
                        help="; ".join(f"{k}: {v}" for k, v in MODELS.items()))
    parser.add_argument("input", nargs="?", default="Michael Jordan",
                        help='the input, a first and a last name (default "Michael Jordan")')
    parser.add_argument("--into", metavar="INPUT", default=None,
                        help='the input that gets this input\'s neurons patched in (default "Michael Phelps")')
    parser.add_argument("--top", type=positive_int, default=5, metavar="K",
                        help="how many of the strongest neurons to ablate, patch and explain (default 5)")
    parser.add_argument("--ablation", choices=["zero", "mean"], default="zero",
                        help="switch a neuron off by setting it to 0 (default) or to its mean over the inputs")
    parser.add_argument("--steps", type=positive_int, default=None, help="training steps (facts, transformer)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--set", dest="settings", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                        help="a model setting, as for `train` (e.g. --set facts=40 --set d_hidden=16; "
                             "michael-jordan: --set bias=-1.5)")
    parser.add_argument("--load", metavar="PATH", default=None,
                        help="probe a checkpoint written by `train facts|transformer --save PATH` instead of training")
    parser.add_argument("--json", action="store_true", help="print everything as one JSON object")
    parser.add_argument("--width", type=positive_int, default=None, help="output width in characters")


class UsageError(Exception):
    """A bad argument: the command prints the usage and the message, and exits with 2."""


def _usage_error(message: str) -> int:
    print(f"{USAGE}\ntinygrad-edu probe: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from tinygrad_edu import probe as probing

    try:
        _precheck(args)
        subject = _subject(args)
        result = probing.probe(subject, args.input, into=args.into, top=args.top, ablation=args.ablation)
    except UsageError as error:
        return _usage_error(str(error))
    except ValueError as error:            # an unknown word in INPUT or --into
        if type(error).__name__ == "ShapeError":
            raise
        return _usage_error(f"{args.model}: {error}")
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    out = args.output.console()
    for part in render(result):
        out.print(part)
    return 0


# ------------------------------------------------------------------------------ the model to probe
def _options(args, function, reserved=("steps", "seed", "on_step")) -> dict:
    """``--set`` checked against ``function``'s keyword parameters, as `train` checks them."""
    from .train import _type_problem

    parameters = {k: p for k, p in inspect.signature(function).parameters.items() if k not in reserved}
    options = {}
    for key, value in args.settings:
        if key not in parameters:
            raise UsageError(f"--set {key}=...: {args.model} has no setting {key!r}; "
                             f"its settings are: {', '.join(sorted(parameters)) or '(none)'}")
        default = parameters[key].default
        problem = _type_problem(default, value)
        if problem:
            raise UsageError(f"--set {key}={value}: {problem}")
        if default is None or (isinstance(default, int) and not isinstance(default, bool)):
            value = int(value)
        elif isinstance(default, float):
            value = float(value)
        options[key] = value
    return options


def _precheck(args) -> None:
    """Catch a misspelt name before minutes of training: every word must be a name some fact uses."""
    if args.model == "michael-jordan":
        return
    from tinygrad_edu.models.michael_jordan import CROSSED_FACTS, FACT_LIST

    names = {word for first, last, _ in FACT_LIST + list(CROSSED_FACTS) for word in (first, last)}
    for option, phrase in (("INPUT", args.input), ("--into", args.into)):
        if phrase is None:
            continue
        words = phrase.split()
        if args.model == "transformer" and words and words[-1] == "plays":
            words = words[:-1]
        unknown = [w for w in words if w not in names]
        if unknown:
            raise UsageError(f"{option} {phrase!r}: no fact has the name {unknown[0]!r}")
        if not words:
            raise UsageError(f"{option} is empty: give a name such as 'Michael Jordan'")
        if args.model == "transformer" and len(words) != 2:
            raise UsageError(f"{option} {phrase!r}: the transformer reads 'first last plays', so give a first "
                             "and a last name")


def _subject(args):
    from tinygrad_edu import probe as probing

    if args.model == "michael-jordan":
        if args.load or args.steps is not None:
            raise UsageError("michael-jordan is hand-built, not trained: --load and --steps do not apply")
        options = _options(args, probing.hand_built_subject, reserved=())
        try:
            return probing.hand_built_subject(**options)
        except ValueError as error:
            raise UsageError(f"michael-jordan: {error}") from None
    if args.load:
        if args.settings or args.steps is not None:
            raise UsageError("--load probes the checkpoint as it was trained: --set and --steps do not apply")
        return _loaded(args)
    return _trained(args)


def _trained(args):
    """Train the model with its own training function (what `train` runs), showing progress on stderr."""
    from tinygrad_edu import probe as probing

    if args.model == "facts":
        from tinygrad_edu.models.michael_jordan import train
    else:
        from tinygrad_edu.models.mini_transformer import train
    options = _options(args, train)
    err = args.output.console(stderr=True)
    progress, on_step = _progress(err, f"train {args.model}")
    try:
        result = train(steps=args.steps, seed=args.seed, on_step=on_step, **options)
    except ValueError as error:
        if type(error).__name__ == "ShapeError":
            raise
        raise UsageError(f"{args.model}: {error}") from None
    finally:
        progress.stop()
    settings = {k: v for k, v in result.config.items() if k in ("steps", "seed", "dim", "d_model", "d_hidden",
                                                                 "facts", "lr", "layers", "n_heads")}
    model = result.details["model"]
    if args.model == "facts":
        return probing.fact_store_subject(model, settings)
    facts = [(first, last, sport) for first, last, _, sport in (s.split() for s in result.details["sentences"])]
    return probing.transformer_subject(model, result.state["vocab"], facts, settings)


def _loaded(args):
    import tinygrad_edu as tg
    from tinygrad_edu import probe as probing

    try:
        state = tg.load(args.load)
    except FileNotFoundError:
        raise UsageError(f"--load {args.load}: no such file") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"--load {args.load}: not a checkpoint ({error})") from None
    kind = "facts" if isinstance(state, dict) and "facts" in state else \
        "transformer" if isinstance(state, dict) and "vocab" in state else None
    if kind != args.model:
        raise UsageError(f"--load {args.load}: this is not a {args.model} checkpoint"
                         + (f" (it holds a {kind} model)" if kind else ""))
    config = state["config"]
    if kind == "facts":
        from tinygrad_edu.models.michael_jordan import FactStore
        model = FactStore([tuple(f) for f in state["facts"]], config["dim"], config["d_hidden"], seed=config["seed"])
    else:
        from tinygrad_edu.models.mini_transformer import MiniTransformer
        model = MiniTransformer(len(state["vocab"]), context=3, d_model=config["d_model"],
                                n_heads=config["n_heads"], d_hidden=config["d_hidden"], layers=config["layers"],
                                seed=config["seed"])
    model.load_state_dict(state["model"])
    settings = {"checkpoint": str(args.load), **{k: v for k, v in config.items() if isinstance(v, (int, float, str))}}
    if kind == "facts":
        return probing.fact_store_subject(model, settings)
    return probing.transformer_subject(model, state["vocab"], None, settings)


def _progress(console, description: str):
    """A progress bar on stderr (only on a terminal) and the on_step callback that drives it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss [cyan]{task.fields[loss]}"), TimeElapsedColumn(),
                        console=console, disable=not console.is_terminal, transient=True)
    task = []

    def on_step(step: int, total: int, loss: float) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task(description, total=total, loss="…"))
        progress.update(task[0], completed=step, loss=f"{loss:.4g}")

    return progress, on_step


# ------------------------------------------------------------------------------ what a person sees
def _num(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _answer(entry: dict) -> str:
    """'basketball 1.00' (the answer and its number); a tie names every sport in it; 'nothing' alone."""
    if entry["answer"] == "nothing":
        return "nothing"
    return f"{' = '.join([entry['answer'], *entry['tied']])} {_num(entry['score'])}"


def render(result: dict) -> list:
    """The Rich renderables ``probe`` prints: a heading, three tables and a summary."""
    from rich.table import Table
    from rich.text import Text

    unit = result["score_unit"]
    phrase, answer = result["input"], result["answer"]
    said = answer["answer"]
    parts = []
    truth = result["known_fact"]
    verdict = "" if truth is None else (" [green]✓[/]" if truth == said else f" [red]✗ (the fact: {truth})[/]")
    parts.append(f"[bold]probe {result['model']}[/]: [cyan]{phrase}[/] → [bold]{_answer(answer)}[/]{verdict}")
    parts.append(Text(result["description"] + "."))
    if result["settings"]:
        parts.append(Text("settings: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items()), style="dim"))
    parts.append(Text(
        f"Neurons: {result['neurons_at']}, {result['neuron_count']} of them. One fires when it is above "
        f"{result['firing_fraction']:g} of its largest value over {result['candidates']} inputs "
        f"({result['candidates_are']}). A sport's {unit} is what the model's answer is read from"
        + (" (1 = says it, 0 = does not)" if unit == "score" else " (the highest wins)") + ".", style="dim"))

    # ---- the neurons that fire, what they write, and the answer without each
    firing = result["firing"]
    by_neuron = {entry["neuron"]: entry for entry in result["ablation"]["neurons"]}
    method = result["ablation"]["method"]
    table = Table(title=f"Neurons that fire for {phrase}, strongest first", title_justify="left")
    table.add_column("neuron")
    table.add_column("value", justify="right")
    table.add_column("writes most", justify="left")
    table.add_column(f"adds to {said}" if said in answer["scores"] else "adds to the answer", justify="right")
    table.add_column(f"switched off: {said} → answer" if said in answer["scores"] else "switched off: answer")
    shown = firing[:len(result["top"])]
    for entry in shown:
        after = by_neuron[entry["neuron"]]
        table.add_row(f"#{entry['neuron']}", _num(entry["value"]),
                      f"{entry['writes_most']} {entry['writes'][entry['writes_most']]:+.2f}",
                      "–" if entry["to_answer"] is None else f"{entry['to_answer']:+.2f}", _after(answer, after))
    for group in result["ablation"]["groups"]:
        table.add_row(group["label"], "", "", "", _after(answer, group))
    more = len(firing) - len(shown)
    how = "set to 0" if method == "zero" else f"held at its mean over the {result['candidates']} inputs"
    notes = [f"Switched off: the neuron's value {how} (--ablation {'mean' if method == 'zero' else 'zero'} for "
             f"the other way)." if firing else "No neuron fires for this input."]
    if more > 0:
        notes.append(f"{more} more neuron{'s fire' if more > 1 else ' fires'} more weakly (--top {len(firing)} "
                     f"shows {'them' if more > 1 else 'it'}).")
    table.caption, table.caption_justify = " ".join(notes), "left"
    parts.append(table)

    # ---- patching
    patching = result["patching"]
    if patching is not None:
        source_answer, target = patching["source_answer"], patching["target"]
        table = Table(title=f"Patching: {target} run with neurons from {phrase}", title_justify="left")
        table.add_column("run")
        table.add_column("answer")
        columns = [s for s in dict.fromkeys([source_answer, patching["target_answer"]]) if s in answer["scores"]]
        for sport in columns:
            table.add_column(f"{sport} {unit}", justify="right")
        for run, became in zip(patching["runs"], patching["became_source_answer"]):
            mark = " [green]✓[/]" if became and run["neurons"] else ""
            table.add_row(run["label"], _answer(run) + mark, *[_num(run["scores"][s]) for s in columns])
        parts.append(table)

    # ---- what else each top neuron fires for
    if result["top_inputs"]:
        table = Table(title="What makes each top neuron fire most", title_justify="left")
        table.add_column("neuron")
        table.add_column("fires for")
        table.add_column("strongest inputs (value)")
        for entry in result["top_inputs"]:
            strongest = [f"{item['input']} {item['value']:.2f}" for item in entry["inputs"] if item["value"] > 0]
            sports = ", ".join(entry["sports"])
            table.add_row(f"#{entry['neuron']}",
                          f"{entry['facts_it_fires_for']} of {entry['facts']} facts" + (f" ({sports})" if sports else ""),
                          "; ".join(strongest[:3]) or "–")
        parts.append(table)
    parts.append(summary(result))
    return parts


def _after(before: dict, after: dict) -> str:
    score = after.get("answer_score")
    head = f"{_num(before['score'])} → {_num(score)}, " if score is not None else ""
    tail = _answer(after)
    return f"{head}[red]{tail}[/]" if after["changed"] else f"{head}{tail}"


def summary(result: dict) -> str:
    """One paragraph: which neurons the answer needs, and whether patching carries it."""
    said = result["answer"]["answer"]
    singles = result["ablation"]["neurons"]
    groups = result["ablation"]["groups"]
    phrase = result["input"]
    if not result["firing"]:
        text = f"No neuron fires for {phrase}."
    elif any(entry["changed"] for entry in singles):
        needed = [f"#{entry['neuron']}" for entry in singles if entry["changed"]]
        text = (f"Switching off {' or '.join(needed)} alone changes the answer: "
                f"{'that neuron stores' if len(needed) == 1 else 'each of them is needed for'} "
                f"{phrase} → {said}.")
    else:
        together = [g for g in groups if g["changed"]]
        text = (f"No single neuron among the top {len(singles)} is needed: the answer survives each one's "
                "loss, so the fact is spread over several neurons.")
        if together:
            label = together[0]["label"]
            text += f" Switching off {'the ' if label.startswith('top') else ''}{label} does change it."
        else:
            text += " Not even switching them all off changes it."
    patching = result["patching"]
    if patching is not None:
        became = patching["became_source_answer"][1:]
        labels = [run["label"] for run in patching["runs"][1:]]
        if became and became[0]:
            text += (f" Patching {labels[0]} into {patching['target']} makes it answer {said}: the neurons carry "
                     "the fact.")
        elif became:
            now = patching["runs"][1]["answer"]
            if now != patching["target_answer"]:
                text += (f" Patching {labels[0]} into {patching['target']} stops it answering "
                         f"{patching['target_answer']} (it says {now}) but does not make it answer {said}.")
            else:
                text += f" Patching the neurons into {patching['target']} does not make it answer {said}."
        if len(became) > 1:
            last = patching["runs"][-1]
            if last["tied"]:
                text += (f" With only the {labels[1]} patched, {patching['target']}'s own neurons still fire too: "
                         f"a tie between {' and '.join([last['answer'], *last['tied']])}.")
            elif became[0] != became[1]:
                text += f" With only the {labels[1]} it {'does' if became[1] else 'does not'}."
    return text
