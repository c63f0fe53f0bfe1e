"""``step.explain()``: the schedule of a captured step, for a reader.

What the replay reads, every kernel the step ran in order and what became of it (run, fused into a
loop, computed once, skipped, dropped, left to an eager optimizer), the fused loops, the buffers the
intermediates share, what Python sees afterwards, and the generated code. ``print()`` gives plain
text; a Rich console draws tables and highlighted code.
"""
from __future__ import annotations

from .capture import display_name
from .schedule import Group, Program

_FATES = {"run": "run", "fused": "fused", "constant": "computed once", "view": "skipped (a view that changes nothing)",
          "same as input": "skipped (returns its input)", "dead": "dropped (nothing needs it)",
          "eager": "eager (the optimizer runs it)", "read": "read at capture"}


class Explanation:
    """The schedule of one program, as plain text (``str``) or Rich renderables."""

    def __init__(self, program: Program, code: bool = True, calls: int = 0, replays: int = 0):
        self.program, self.code, self.calls, self.replays = program, code, calls, replays

    # ---- the content, once -----------------------------------------------------------------------
    def summary(self) -> list[str]:
        p = self.program
        counts = {}
        for kernel in p.kernels:
            counts[kernel.fate] = counts.get(kernel.fate, 0) + 1
        backend = next((k.backend.name for k in p.kernels if k.backend is not None), "?")
        run = sum(1 for s in p.steps if not isinstance(s, Group))
        fused = sum(len(g.members) for g in p.groups)
        recomputed = f", {fused} counting recomputed ones" if fused != counts.get("fused", 0) else ""
        lowered = sum(1 for s in p.steps if not isinstance(s, Group) and s.lowered)
        lines = [f"jit {p.name}: captured on calls {p.calls[0]} and {p.calls[1]}, replayed from the next call "
                 f"({self.replays} replays in {self.calls} calls so far) · {backend} backend",
                 f"{len(p.kernels)} kernels captured; a replay runs {run} of them and {len(p.groups)} fused loops "
                 f"(in place of {counts.get('fused', 0)} kernels{recomputed})"]
        if lowered:
            lines.append(f"{lowered} of the kernels call NumPy directly (lowered: the backend's wrapper skipped, "
                         "each translation checked on the captured numbers)")
        skipped = [(counts.get(fate, 0), text) for fate, text in
                   (("constant", "computed once at capture"), ("view", "views that change nothing"),
                    ("same as input", "return their input"), ("dead", "dropped: nothing needs them"),
                    ("read", "read numbers into Python at capture"), ("eager", "left to an eager optimizer"))]
        skipped = [f"{n} {text}" for n, text in skipped if n]
        if skipped:
            lines.append("not run by the replay: " + "; ".join(skipped))
        buffers = len(p.buffers)
        values = sum(len(v) for v in p.buffers.values())
        if buffers:
            lines.append(f"{values} intermediate results share {buffers} buffers (a buffer is reused once nothing "
                         "reads its last value)")
        return lines

    def inputs(self) -> list[tuple[str, str, str]]:
        rows = []
        written = {(id(t), attr) for t, attr, _ in self.program.writes}
        for source in self.program.inputs:
            array = source.array
            what = f"{tuple(array.shape)} {array.dtype}"
            if source.kind == "argument":
                rows.append((source.name, what, "argument"))
            else:
                changes = "written back after every replay" if (id(source.tensor), source.attr) in written \
                    else "read only"
                rows.append((source.name, what, f"{source.label} ({changes})"))
        for source in self.program.constants:
            kind = "state, kept in place" if source.kind == "state" else "constant"
            made = f"#{source.kernel.number}" if source.kernel is not None else "held"
            rows.append((source.name, f"{tuple(source.array.shape)} {source.array.dtype}", f"{kind} ({made})"))
        return rows

    def kernels(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for kernel in self.program.kernels:
            fate = _FATES.get(kernel.fate, kernel.fate)
            if kernel.fate == "run" and kernel.value is not None and kernel.value.name:
                fate = f"run → {kernel.value.name}" + (" (NumPy directly)" if kernel.lowered else "")
            elif kernel.fate == "fused":
                fate = kernel.note if kernel.note.startswith("in ") else f"{kernel.note} → {kernel.value.name}"
            elif kernel.fate == "constant" and kernel.value is not None and kernel.value.name:
                fate = f"computed once → {kernel.value.name}"
            rows.append((str(kernel.number), kernel.describe(), kernel.op, fate))
        return rows

    def loops(self) -> list[tuple[str, str]]:
        out = []
        for group in self.program.groups:
            members = " + ".join(f"#{k.number} {display_name(k.name)}" for k in group.members)
            what = (f"loop {group.number}: {members}, one pass over {tuple(group.root.out.shape)} instead of "
                    f"{len(group.members)}" + (" (kernels one by one if an element fails: ÷ 0, overflow)"
                                              if group.raises else ""))
            out.append((what, group.expression))
        return out

    def buffers(self) -> list[tuple[str, str]]:
        rows = []
        for name, steps in self.program.buffers.items():
            held = [f"loop {s.number}" if isinstance(s, Group) else f"#{s.number}" for s in steps]
            rows.append((name, ", ".join(held)))
        return rows

    def afterwards(self) -> list[str]:
        p = self.program
        lines = []
        for holder, value in p.states:
            lines.append(f"{holder.name} (state made by #{holder.kernel.number}, {holder.kernel.op}) ← "
                         f"{value.final().name}, overwritten in place")
        for tensor, attr, source in p.writes:
            name = p.names.get(id(tensor)) or next((n for o, t, n in p.updates if t is tensor), None) \
                or tensor.name or "a tensor"
            value = "None" if source is None else source.final().name
            lines.append(f"{name}.{attr} ← {value}")
        for kernel, base in p.in_place:
            what = (f"{p.names.get(id(base.tensor)) or base.tensor.name or 'a tensor'}.{base.attr}"
                    if base.kind == "tensor" else f"argument {p.arguments[base.position][0]}")
            lines.append(f"{what} written in place by #{kernel.number} ({kernel.where}): the same array, new numbers")
        for optimizer in p.stable_optimizers:
            lines.append(f"{type(optimizer).__name__}: its update is part of the replay (its settings are checked "
                         "before each replay; a change captures again)")
        for optimizer, why in p.eager_optimizers:
            lines.append(f"{type(optimizer).__name__}.step() runs eagerly after the replay: its numbers change "
                         f"from call to call ({why})")
        return lines

    # ---- plain text ----------------------------------------------------------------------------
    def __str__(self) -> str:
        out = list(self.summary())
        out += ["", "Read at the start of every replay:"]
        out += _columns(self.inputs(), indent=2)
        out += ["", "Kernels, in the order the step ran them:"]
        out += _columns([("#", "kernel", "op", "at replay")] + self.kernels(), indent=2)
        if self.program.groups:
            out += ["", "Fused loops (pure-Python backend):"]
            for what, expression in self.loops():
                out += [f"  {what}", f"      {expression}"]
        if self.program.buffers:
            out += ["", "Buffers and the results they hold, in turn:"]
            out += _columns(self.buffers(), indent=2)
        out += ["", "After the replay, Python sees:"] + [f"  {line}" for line in self.afterwards()]
        if self.code:
            out += ["", "Generated code:", ""] + ["    " + line if line else "" for line in
                                                  self.program.source.rstrip().splitlines()]
        return "\n".join(line.rstrip() for line in out)

    def __repr__(self) -> str:
        return str(self)

    # ---- Rich ----------------------------------------------------------------------------------
    def __rich_console__(self, console, options):
        from rich.syntax import Syntax
        from rich.table import Table
        from rich.text import Text

        yield Text("\n".join(self.summary()), style="bold")
        yield _table("Read at the start of every replay", ("name", "shape", "what"), self.inputs())
        yield _table("Kernels, in the order the step ran them", ("#", "kernel", "op", "at replay"), self.kernels(),
                     right=(0,))
        if self.program.groups:
            table = Table(title="Fused loops (pure-Python backend)", title_justify="left", show_header=False)
            table.add_column("loop")
            for what, expression in self.loops():
                table.add_row(Text(what, style="bold"))
                table.add_row(Syntax(expression, "python", word_wrap=True, background_color="default"))
            yield table
        if self.program.buffers:
            yield _table("Buffers and the results they hold, in turn", ("buffer", "results"), self.buffers())
        yield Text("After the replay, Python sees:\n" + "\n".join(f"  {line}" for line in self.afterwards()))
        if self.code:
            yield Text("Generated code:", style="bold")
            yield Syntax(self.program.source, "python", word_wrap=True, background_color="default")


def _columns(rows: list, indent: int = 0) -> list[str]:
    if not rows:
        return []
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return [" " * indent + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def _table(title: str, columns: tuple, rows: list, right: tuple = ()):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i in right else "left")
    for row in rows:
        table.add_row(*row)
    return table


# ---- tinygrad-edu trace --jit ------------------------------------------------------------------
def step_of_target(function):
    """A whole training step made from a trace target (see ``tinygrad-edu trace``): call it, backpropagate
    the loss it returns (unless it did so itself) and step the optimizer it returns."""
    from ..tensor import Tensor
    from . import current_capture

    def step():
        returned = function()
        loss = optimizer = None
        if isinstance(returned, dict):
            loss, optimizer = returned.get("loss"), returned.get("optimizer")
        else:
            for item in returned if isinstance(returned, tuple) else (returned,):
                if isinstance(item, Tensor):
                    loss = item
        capture = current_capture()
        ran_backward = capture is not None and any(k.op.startswith("backward") for k in capture.kernels)
        if isinstance(loss, Tensor) and loss.requires_grad and not ran_backward:
            loss.backward()
        if optimizer is not None:
            optimizer.step()
        return loss

    step.__name__ = getattr(function, "__name__", "step")
    return step


def explain_target(function, most_calls: int = 6) -> Explanation:
    """Jit the step made from ``function`` and call it until it replays; its explanation."""
    from . import jit

    step = jit(step_of_target(function))
    for _ in range(most_calls):
        step()
        if step.replays:
            break
    return step.explain()
