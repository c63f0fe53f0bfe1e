"""``tinygrad-edu demo``: how one MLP block knows that Michael Jordan plays basketball.

The block is built by hand so every number means something. Five named directions are the
axes of a 5-dimensional residual stream (so they are exactly orthonormal):

    Michael, Jordan, basketball, Phelps, swimming

The block has two neurons:

    neuron 0: row 0 of W_up = Michael + Jordan, bias −1, column 0 of W_down = basketball
    neuron 1: row 1 of W_up = Michael + Phelps, bias −1, column 1 of W_down = swimming

For the input "Michael Jordan" (x = M + J) neuron 0 reads 2 − 1 = 1 and fires; neuron 1 reads
1 − 1 = 0 and the ReLU keeps it silent. So the block adds basketball and nothing else:
y = x + B. Then one backward pass of the loss −(y · basketball) ("say basketball more
strongly") and one SGD step show how training would strengthen the fact.

The same computation is the default TARGET of ``tinygrad-edu trace``.
"""

from __future__ import annotations

import argparse

HELP = "the Michael Jordan MLP block as a story: forward, one backward pass, one SGD update"
EXPORT_FLAGS = ("--save", "--export")   # --save FILE keeps every page shown, as for trace

NAMES = ("Michael", "Jordan", "basketball", "Phelps", "swimming")
LEARNING_RATE = 0.1


def build_block():
    """The hand-built block and its vocabulary: ``(directions, block)``."""
    import tinygrad_edu as tg
    from tinygrad_edu import nn
    from tinygrad_edu.directions import Directions

    dirs = Directions.orthonormal(NAMES)
    m, j, b, p, s = (dirs[name].tolist() for name in NAMES)
    block = nn.MLPBlock(d_model=len(NAMES), d_hidden=2)
    w_up = [[mi + ji for mi, ji in zip(m, j)],          # neuron 0 asks "Michael AND Jordan?"
            [mi + pi for mi, pi in zip(m, p)]]          # neuron 1 asks "Michael AND Phelps?"
    w_down = [[bi, si] for bi, si in zip(b, s)]         # column 0 adds basketball, column 1 swimming
    block.load_state_dict({
        "up.weight": tg.tensor(w_up),
        "up.bias": tg.tensor([-1.0, -1.0]),
        "down.weight": tg.tensor(w_down),
        "down.bias": tg.zeros(len(NAMES)),
    })
    return dirs, block


def forward(block, x):
    """The block, one piece at a time so each result has a name: ``y = x + W_down relu(W_up x + b_up) + b_down``."""
    u = block.up(x).named("u")          # up projection and bias: one number per neuron
    h = block.act(u).named("h")         # ReLU: the gate
    delta = block.down(h).named("delta")  # down projection: what the firing neurons add
    return (x + delta).named("y")       # residual: added back to the input


def michael_jordan():
    """The default trace: the block on "Michael Jordan", the loss −(y · basketball), one SGD step."""
    from tinygrad_edu import optim

    dirs, block = build_block()
    x = dirs.embed(["Michael", "Jordan"]).named("x")
    y = forward(block, x)
    score = (y @ dirs["basketball"]).named("score")
    loss = (-score).named("loss")
    optimizer = optim.SGD(block.named_parameters(), lr=LEARNING_RATE)
    return {"loss": loss, "directions": dirs, "modules": {"block": block}, "optimizer": optimizer}


# ---- the story ---------------------------------------------------------------------------------

class Note:
    """One page's part of the story: a ``title`` (kept on screen with the formula when stepping) and a
    paragraph (Rich wraps it to the width), optionally followed by a table or chart (``extra``)."""

    def __init__(self, title: str, *lines: str, extra=None):
        self.title, self.lines, self.extra = title.strip(), lines, extra

    def heading(self):
        from rich.text import Text

        return Text(self.title, style="bold yellow")

    def body(self):
        """The paragraph and the extra (None when the note is only a title)."""
        from rich.console import Group
        from rich.text import Text

        parts = ([Text(" ".join(self.lines))] if self.lines else []) + ([self.extra] if self.extra is not None else [])
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Group(parts[0], Text(""), *parts[1:])

    def __rich__(self):
        from rich.console import Group

        body = self.body()
        return self.heading() if body is None else Group(self.heading(), body)



def _find(events, phase: str, op: str, output: str | None = None, uses: str | None = None):
    """The first event of ``phase`` and ``op`` whose output is named ``output`` / that reads ``uses``."""
    for event in events:
        if event.phase != phase or event.op != op:
            continue
        target = event.output if phase == "forward" else event.grad_output
        if output is not None and (target is None or target.name != output):
            continue
        if uses is not None and uses not in [s.name for s in event.inputs]:
            continue
        return event
    raise LookupError(f"demo: no {phase} {op} step" + (f" making {output}" if output else "")
                      + (f" reading {uses}" if uses else ""))


def _update(events, name: str):
    for event in events:
        if event.phase == "update" and event.name == name:
            return event
    raise LookupError(f"demo: no update of {name}")


def story(tape) -> list[tuple]:
    """The pages of the story: ``(event, note)`` in reading order."""
    from ..trace.render import projection_bars

    f, b = "forward", "backward"
    up = _find(tape, f, "MatMul", uses="block.up.weight.T")
    w_up = _find(tape, f, "Permute", uses="block.up.weight").inputs[0]
    down = _find(tape, f, "MatMul", uses="block.down.weight.T")
    score_f = _find(tape, f, "MatMul", output="score")
    return [
        (up, Note(
            "1 · The up projection",
            "Each row of W_up asks x a question: a dot product with a direction.",
            "Row 0 = Michael + Jordan reads 2 (both names present); row 1 = Michael + Phelps reads 1.",
            "(Linear multiplies by W_upᵀ, the transpose, so the rows become columns.)",
            extra=projection_bars(w_up))),
        (_find(tape, f, "Add", output="u"), Note(
            "2 · The bias",
            "Each neuron adds −1: neuron 0 now reads 1, neuron 1 reads 0.",
            "Only an input holding both Michael and Jordan stays above 0 in neuron 0.")),
        (_find(tape, f, "ReLU", output="h"), Note(
            "3 · The ReLU gate",
            "ReLU keeps positive values and zeroes the rest. Neuron 0 (1 after the bias) passes;",
            "neuron 1 sits exactly at 0 and stays silent: an AND gate for Michael AND Jordan.")),
        (down, Note(
            "4 · The down projection",
            "Each column of W_down is what its neuron adds when it fires.",
            "Column 0 is basketball, so neuron 0's 1 becomes one unit of basketball.")),
        (_find(tape, f, "Add", output="delta"), Note(
            "   (the down bias)",
            "b_down is zero here, so delta is just basketball: what the block adds.")),
        (_find(tape, f, "Add", output="y"), Note(
            "5 · The residual",
            "The block's output is added back to its input: y = x + delta.",
            "Before, x said Michael and Jordan; now y says Michael, Jordan and basketball.")),
        (score_f, Note(
            "6 · A loss, to see learning",
            "Suppose training wants the fact stated more strongly: score = y · basketball,",
            "and loss = −score (lower loss, more basketball).")),
        (_find(tape, f, "Neg", output="loss"), None),
        (_find(tape, b, "Neg", output="loss"), Note(
            "7 · Backward: the chain rule, one op at a time",
            "∂L/∂loss = 1 starts the pass. Each step turns the gradient of an op's output",
            "into the gradients of its inputs.")),
        (_find(tape, b, "MatMul", output="score"), Note(
            "   ∂L/∂y points against basketball",
            "Making y more like basketball lowers the loss.")),
        (_find(tape, b, "Add", output="y"), Note(
            "   The residual passes the gradient on unchanged",
            "x is the input, not a parameter, so only delta gets a gradient.")),
        (_find(tape, b, "Add", output="delta"), Note("   The down bias gets the same gradient")),
        (_find(tape, b, "MatMul", output=down.output.name), Note(
            "   Through W_down",
            "Neuron 0 fired (h₀ = 1), so column 0 of W_down gets −basketball; neuron 1 was silent (h₁ = 0)",
            "and its column gets nothing. ∂L/∂h = −1 for neuron 0.")),
        (_find(tape, b, "ReLU", output="h"), Note(
            "   The gate again",
            "The gradient passes only where the neuron fired: [u > 0] is 1 for neuron 0 and 0 for",
            "neuron 1 (u₁ = 0 exactly, and relu'(0) = 0).")),
        (_find(tape, b, "Add", output="u"), Note("   The up bias gets the gate's gradient")),
        (_find(tape, b, "MatMul", output=up.output.name), Note(
            "   Through W_up",
            "Row 0 of W_up gets −(Michael + Jordan): lowering the loss means asking that question louder.")),
        (_update(tape, "block.up.weight"), Note(
            "8 · One SGD step: w ← w − lr·∂L/∂w",
            f"With lr = {LEARNING_RATE}, row 0 of W_up grows along Michael + Jordan.")),
        (_update(tape, "block.up.bias"), Note("   The bias of neuron 0 rises: −1 → −0.9")),
        (_update(tape, "block.down.weight"), Note(
            "   Column 0 of W_down grows along basketball")),
        (_update(tape, "block.down.bias"), Note("   The down bias picks up a little basketball too")),
    ]


def _closing(dirs, block):
    """The last page: the block before and after the update, on the same inputs, measured."""
    import tinygrad_edu as tg
    from rich.table import Table
    from rich.text import Text

    from ..trace.render import Page

    before_dirs, before_block = build_block()
    table = Table(title="basketball in y", title_style="bold", show_edge=False, title_justify="left")
    table.add_column("input")
    table.add_column("before the step", justify="right")
    table.add_column("after", justify="right")
    readings = {}
    with tg.no_grad():
        for words in (("Michael", "Jordan"), ("Michael",), ("Michael", "Phelps")):
            before = before_dirs.project(forward(before_block, before_dirs.embed(words)))["basketball"]
            after = dirs.project(forward(block, dirs.embed(words)))["basketball"]
            readings[words] = (before, after)
            table.add_row(" ".join(words), f"{before:.2f}", Text(f"{after:.2f}", style="bold"))
    mj_before, mj_after = readings[("Michael", "Jordan")]
    lines = [f"For Michael Jordan the block now adds {mj_after:.2f} of basketball instead of {mj_before:.2f}."]
    leaks = [" ".join(w) for w, (b, a) in readings.items() if w != ("Michael", "Jordan") and a > b + 1e-9]
    if leaks:
        with tg.no_grad():
            michael_reads = block.up(dirs.embed(["Michael"])).tolist()[0]
            bias_adds = dirs.project(block.down.bias)["basketball"]
        causes = []
        if michael_reads > 0:
            causes.append(f"neuron 0 now reads {michael_reads:.2f} for Michael alone, above 0, so the AND "
                          "gate lets it through")
        if bias_adds > 0:
            causes.append(f"the down bias adds {bias_adds:.2f} of basketball to every input")
        lines.append(f"But one step on one example also leaks: {' and '.join(leaks)} now get some basketball "
                     f"too ({'; '.join(causes)}). That is why training uses many examples, including ones "
                     "whose answer is not basketball.")
    else:
        lines.append("The other inputs still get none: the AND gate keeps them out.")
    return Page([Text("9 · After the update", style="bold yellow")], [Text(" ".join(lines)), Text(""), table],
                title=" the end ", border_style="yellow")


def _intro(x_snapshot):
    from rich.text import Text

    from ..trace.render import Page, projection_bars, tensor_block

    note = Note("Michael Jordan plays basketball",
                 "How can an MLP block store a fact? A hand-built block with five named directions:",
                 "Michael, Jordan, basketball, Phelps and swimming (the axes of a 5-dimensional space).",
                 "The input is the token vector for \"Michael Jordan\": x = Michael + Jordan.")
    return Page([note.heading()], [note.body(), Text(""), tensor_block(x_snapshot), Text(""),
                                   projection_bars(x_snapshot)],
                title=" the setup ", border_style="yellow")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .trace import add_display_arguments

    parser.description = HELP
    add_display_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..trace.graph import graph_tree
    from ..trace.render import render_event, summary_table
    from ..trace.target import run_target
    from .trace import present

    parts = {}

    def traced():
        parts.update(michael_jordan())
        return parts

    tape = run_target(traced).tape
    pages_spec = story(tape)
    x_snapshot = next(s for e in tape for s in e.snapshots() if s.name == "x")
    pages = [_intro(x_snapshot)]
    shown = [event for event, _ in pages_spec]
    for position, (event, note) in enumerate(pages_spec, start=2):
        pages.append(render_event(event, position=position, total=len(pages_spec) + 2,
                                  heading=note.heading() if note else None, note=note.body() if note else None))
    block = parts["modules"]["block"]
    pages.append(_closing(parts["directions"], block))
    return present(args, pages, graph=graph_tree(tape),
                   summary=summary_table(shown, title="the steps of the story", start=2))


_MICHAEL_JORDAN: dict = {}


def michael_jordan_step():
    """The default of ``tinygrad-edu trace --jit``: the demo's hand-built Michael Jordan block, trained one SGD
    step per call on the loss −(y · basketball). The block and its optimizer are built on the first call
    only, so every call is the next step (a step that built its block anew would be a constant)."""
    from ..optim import SGD

    if not _MICHAEL_JORDAN:
        dirs, block = build_block()
        _MICHAEL_JORDAN.update(dirs=dirs, block=block, x=dirs.embed(["Michael", "Jordan"]).named("x"),
                               optimizer=SGD(block.named_parameters(), lr=LEARNING_RATE))
    state = _MICHAEL_JORDAN
    state["optimizer"].zero_grad()
    y = forward(state["block"], state["x"])
    loss = -(y @ state["dirs"]["basketball"])
    return {"loss": loss, "optimizer": state["optimizer"]}
