"""Drawing trace events with Rich: small pieces, each testable with a recording console.

* `values_grid`      a snapshot's values as the coloured grid every tensor is drawn with
                     (blue below 0, red above, grey at 0; large tensors keep their corners)
* `tensor_block`     name, shape, grid and min / max / mean (and the share of zeros)
* `projection_bars`  a bar per named direction: how much of "basketball" the vector holds
* `projection_table` several vectors side by side, a row per direction (x before, y after)
* `render_event`     one event as a panel: step k of n, phase, op, formula, shapes, values, gradients
* `summary_table`    one row per step
* `tape_view`        a tape at a glance: counts per phase and the summary (its notebook display)

Events are plain data (`events.py`); this module reads them and never the other way round.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from rich import box
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import _format
from .._format import format_number, shape_text, value_style
from .events import BackwardEvent, Event, ForwardEvent, Snapshot, UpdateEvent

__all__ = ["format_number", "values_grid", "tensor_block", "projection_bars", "projection_table", "Page",
           "render_event", "summary_table", "tape_view", "print_tape"]

PHASE_COLOURS = {"forward": "cyan", "backward": "magenta", "update": "green"}


def values_grid(snap: Snapshot, max_rows: int = 6, max_cols: int = 8) -> RenderableType:
    """The snapshot's values as the coloured grid (see `tinygrad_edu._format.values_grid`)."""
    return _format.values_grid(snap.shape, snap.values, max_rows=max_rows, max_cols=max_cols)


def stats_text(snap: Snapshot, show_zeros: bool = False) -> Text:
    """``min -1.00  max 2.00  mean 0.33`` and, after a ReLU or when asked, the share of zeros."""
    if snap.dtype == "bool" or snap.numel() < 2:
        return Text("")
    text = Text(f"min {format_number(snap.min())} max {format_number(snap.max())} "
                f"mean {format_number(snap.mean())}", style="dim")
    if show_zeros:
        text.append(f" · {snap.zero_share():.0%} zero", style="yellow")
    return text


def tensor_block(snap: Snapshot, role: str = "", show_zeros: bool = False,
                 max_rows: int = 6, max_cols: int = 8) -> RenderableType:
    """One tensor: ``role  name  shape`` above its grid, with min / max / mean below when it is large."""
    header = Text()
    if role:
        header.append(role + " ", style="dim italic")
    header.append(snap.label, style="bold")
    header.append(" " + shape_text(snap.shape), style="dim")
    if snap.requires_grad and snap.is_leaf and not snap.is_grad:
        header.append(" trainable", style="yellow")
    parts: list[RenderableType] = [header, values_grid(snap, max_rows=max_rows, max_cols=max_cols)]
    rows_hidden = snap.ndim >= 1 and (snap.numel() // max(snap.shape[-1], 1) > max_rows or snap.shape[-1] > max_cols)
    if rows_hidden or show_zeros:
        parts.append(stats_text(snap, show_zeros=show_zeros))
    return Group(*parts)


def _projection_value(value: float) -> Text:
    return Text(f"{value:+.2f}" if abs(value) > 5e-3 else " 0.00", style="bold" if abs(value) >= 0.5 else "dim")


def projection_bars(snap: Snapshot, max_vectors: int = 6, bar_width: int = 16,
                    role: str = "") -> RenderableType | None:
    """How much of each named direction a vector holds (None without projections).

    One vector: a bar per direction. Several (the rows of a matrix): a table, one row per vector,
    the values coloured like the grid.
    """
    if not snap.projections:
        return None
    header = Text()
    if role:
        header.append(role + " ", style="dim italic")
    header.append(snap.label, style="bold")
    header.append(" · along the named directions", style="dim")
    if len(snap.projections) == 1:
        projections = snap.projections[0]
        scale = max([1.0] + [abs(v) for v in projections.values()])
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right")
        grid.add_column(justify="right")
        grid.add_column()
        for name, value in projections.items():
            length = abs(value) / scale * bar_width
            full = int(length + 1e-9)
            bar = "█" * full + ("▌" if length - full >= 0.5 else "")
            if not bar and abs(value) > 5e-3:
                bar = "▏"
            grid.add_row(Text(name), _projection_value(value), Text(bar, style="green" if value > 0 else "red"))
        return Group(header, grid)
    names = list(snap.projections[0])
    shown = snap.projections[:max_vectors]
    scale = max([abs(v) for p in shown for v in p.values()] + [0.0])
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False)
    table.add_column("row", justify="right", style="dim")
    for name in names:
        table.add_column(name, justify="right", header_style="bold")
    for index, projections in enumerate(shown):
        table.add_row(str(index), *(Text(f"{v:+.2f}" if abs(v) > 5e-3 else "0", style=value_style(v, scale))
                                    for v in projections.values()))
    parts: list[RenderableType] = [header, table]
    if len(snap.projections) > len(shown):
        parts.append(Text(f"… and {len(snap.projections) - len(shown)} more rows", style="dim"))
    return Group(*parts)


def projection_table(pairs: Sequence[tuple[str, Snapshot]], bar_width: int = 6) -> RenderableType:
    """Several vectors side by side: a row per named direction, a column per vector.

    The student reads across a row to see a direction appear: basketball 0 in x, 1 in y.
    """
    names = list(pairs[0][1].projections[0])
    scale = max([1.0] + [abs(v) for _, snap in pairs for v in snap.projections[0].values()])
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False,
                  title=Text("along the named directions", style="dim"), title_justify="left")
    table.add_column("", justify="right")
    for role, snap in pairs:
        table.add_column(Text(f"{role} {snap.label}".strip(), style="bold"), justify="left", no_wrap=True)
    for name in names:
        cells = []
        for _, snap in pairs:
            value = snap.projections[0][name]
            cell = _projection_value(value)
            length = round(abs(value) / scale * bar_width)
            if length == 0 and abs(value) > 5e-3:
                cell.append(" ▏", style="green" if value > 0 else "red")
            elif length:
                cell.append(" " + "█" * length, style="green" if value > 0 else "red")
            cells.append(cell)
        table.add_row(Text(name), *cells)
    return table


def _is_relu(op: str) -> bool:
    return "relu" in op.lower()


def _facts(rows: Sequence[tuple[str, str | Text, str]]) -> Table:
    """Label-value lines (formula, here, shapes, ...) whose long values wrap under themselves."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, min_width=7)
    grid.add_column(overflow="fold")
    for label, body, style in rows:
        grid.add_row(label, body if isinstance(body, Text) else Text(body, style=style))
    return grid


def _shapes(sources: Sequence[Snapshot | None], targets: Sequence[Snapshot | None]) -> str:
    def part(snaps):
        return ", ".join(f"{s.label} {shape_text(s.shape)}" for s in snaps if s is not None) or "—"
    return f"{part(sources)} → {part(targets)}"


def _blocks(pairs: Iterable[tuple[str, Snapshot | None]], show_zeros: bool = False) -> list[RenderableType]:
    return [tensor_block(snap, role=role, show_zeros=show_zeros) for role, snap in pairs if snap is not None]


def _projections(pairs: Iterable[tuple[str, Snapshot | None]]) -> list[RenderableType]:
    """Vectors with projections share one table; each matrix gets its own (a row per matrix row)."""
    with_projections = [(role, snap) for role, snap in pairs if snap is not None and snap.projections]
    vectors = [(role, snap) for role, snap in with_projections if len(snap.projections) == 1]
    found: list[RenderableType] = []
    if len(vectors) == 1:
        found.append(projection_bars(vectors[0][1], role=vectors[0][0]))
    elif vectors:
        found.append(projection_table(vectors))
    for role, snap in with_projections:
        if len(snap.projections) > 1:
            found.append(projection_bars(snap, role=role))
    return found


def _title(event: Event, position: int | None, total: int | None) -> Text:
    step = position if position is not None else event.step
    count = total if total is not None else event.total
    title = Text(f" step {step}" + (f" of {count}" if count else "") + " · ", style="bold")
    title.append(event.phase, style=f"bold {PHASE_COLOURS.get(event.phase, 'white')}")
    title.append(f" · {event.name if isinstance(event, UpdateEvent) else event.op} ", style="bold")
    return title


class Page(Panel):
    """A panel in two parts: a ``header`` (title line, formula ...) and a ``body`` (values, gradients).

    Printed, it is one panel. A stepper keeps the header on screen and scrolls the body under it:
    `sticky_lines` says how many of the panel's first lines the header takes at a given width.
    """

    def __init__(self, header: Sequence[RenderableType], body: Sequence[RenderableType] = (), **panel):
        panel.setdefault("box", box.ROUNDED)
        panel.setdefault("padding", (0, 1))
        panel.setdefault("title_align", "left")
        self.header, self.body = list(header), list(body)
        # A blank line under the header belongs to it: scrolled, the body stays apart from the formula.
        self._top = self.header + ([Text("")] if self.header and self.body else [])
        super().__init__(Group(*self._top, *self.body), expand=True, **panel)
        self._panel = panel

    def sticky_lines(self, console: Console, options) -> int:
        """The lines of this page, as drawn at ``options``' width, that belong to its title and header.

        Measured, not computed: the panel with only its header is drawn beside the whole panel, and the
        lines they share from the top are the header's (the header-only panel ends in its bottom border
        where the whole one goes on with the body)."""
        whole = console.render_lines(self, options, pad=True)
        alone = console.render_lines(Panel(Group(*self._top), expand=True, **self._panel), options, pad=True)
        shared = 0
        for mine, theirs in zip(whole, alone[:-1]):
            if mine != theirs:
                break
            shared += 1
        return shared


def render_event(event: Event, position: int | None = None, total: int | None = None,
                 note: RenderableType | None = None, heading: str | Text | None = None) -> Page:
    """One event as a `Page`: the title (step k of n, phase, op), then in its header the ``heading``
    (the demo's title for the step) and the facts (formula, the names put in, shapes); in its body the
    ``note`` (the demo's story), the values and gradients, and the projections.

    ``position``/``total`` override "step k of n" (for a filtered list)."""
    header: list[RenderableType] = []
    if heading is not None:
        header.append(heading if isinstance(heading, Text) else Text(str(heading), style="bold yellow"))
    facts: list[tuple[str, str | Text, str]] = []
    if isinstance(event, UpdateEvent):
        facts.append(("rule", event.rule, "bold"))
        facts.append(("param", event.name, "bold"))
        if event.before is not None and event.after is not None:
            change = max((abs(float(a) - float(b)) for a, b in zip(event.after.values, event.before.values)),
                         default=0.0)
            facts.append(("change", f"largest |after − before| = {format_number(change)}", ""))
        blocks = _blocks([("before", event.before), ("gradient", event.grad), ("after", event.after)])
        projections = _projections([("before", event.before), ("after", event.after)])
    else:
        if isinstance(event, ForwardEvent) and event.about:
            facts.append(("about", event.about, "italic"))
        facts.append(("formula", event.plain_formula(), "bold"))
        bound = event.bound_formula()
        if bound:
            facts.append(("here", bound, "bold cyan"))
        if isinstance(event, ForwardEvent):
            if event.unstated:
                facts.append(("options", ", ".join(f"{k}={v}" for k, v in event.unstated.items()), ""))
            facts.append(("shapes", _shapes(event.inputs, [event.output]), ""))
            pairs = [("in", s) for s in event.inputs] + [("out", event.output)]
            # After a ReLU the share of zeros is the point: how many neurons stayed silent.
            blocks = (_blocks(pairs[:-1]) + _blocks(pairs[-1:], show_zeros=_is_relu(event.op)))
        else:
            assert isinstance(event, BackwardEvent)
            facts.append(("shapes", _shapes([event.grad_output], list(event.input_grads)), ""))
            skipped = [s.name for s, g in zip(event.inputs, event.input_grads) if g is None]
            if skipped:
                facts.append(("", f"no gradient for {', '.join(skipped)} (does not require grad)", "dim"))
            pairs = [("from", event.grad_output)] + [("to", g) for g in event.input_grads]
            # Each input's forward value beside the gradient it receives, kept together as one unit
            # so they stay side by side when the panel wraps: [u > 0] can be read off.
            blocks = _blocks([("from", event.grad_output)])
            for value, grad in zip(event.inputs, event.input_grads):
                if grad is not None:
                    pair = Table.grid(padding=(0, 3))
                    pair.add_row(*_blocks([("value", value), ("to", grad)]))
                    blocks.append(pair)
        projections = _projections(pairs)
    header.append(_facts(facts))
    body: list[RenderableType] = []
    for part in (note, Columns(blocks, padding=(1, 3)) if blocks else None,    # the story, then its numbers
                 Columns(projections, padding=(1, 3)) if projections else None):
        if part is not None:
            body += [Text(""), part] if body else [part]
    return Page(header, body, title=_title(event, position, total),
                border_style=PHASE_COLOURS.get(event.phase, "white"))


def _top_direction(snap: Snapshot | None) -> str:
    """The directions a vector mostly points along: those with at least half the largest |projection|."""
    if snap is None or not snap.projections or len(snap.projections) != 1:
        return ""
    projections = snap.projections[0]
    largest = max(abs(v) for v in projections.values())
    if largest <= 5e-3:
        return ""
    strong = [(name, v) for name, v in projections.items() if abs(v) >= 0.5 * largest]
    text = " ".join(f"{'+' if v > 0 else '−'}{name}" for name, v in strong[:3])
    return text + (" …" if len(strong) > 3 else "")


class SummaryTable:
    """One row per event: its number, phase, op, what it computed, the result's shape.

    Drawn to fit: below 100 columns the shape column is left out so the formulas keep their room.
    """

    def __init__(self, events: Sequence[Event], title: str = "trace summary", start: int = 1):
        self.events, self.title, self.start = list(events), title, start

    def table(self, width: int = 120) -> Table:
        with_directions = any(s.projections for e in self.events for s in e.snapshots())
        with_shapes = width >= 100
        table = Table(title=self.title, box=box.SIMPLE_HEAD, title_style="bold", expand=False)
        table.add_column("#", justify="right", style="dim")
        table.add_column("phase")
        table.add_column("op", style="bold")
        table.add_column("what happened", overflow="fold", ratio=1)
        if with_shapes:
            table.add_column("shape", justify="right", style="dim", no_wrap=True)
        if with_directions:
            # At most three names: they wrap one under the other rather than squeeze the formulas.
            table.add_column("mostly along", max_width=16)
        for number, event in enumerate(self.events, start=self.start):
            if isinstance(event, UpdateEvent):
                result = event.after
            elif isinstance(event, ForwardEvent):
                result = event.output
            else:
                assert isinstance(event, BackwardEvent)
                result = event.grad_output
            row = [str(number), Text(event.phase, style=PHASE_COLOURS.get(event.phase, "")), event.op,
                   event.headline()]
            if with_shapes:
                row.append(shape_text(result.shape) if result is not None else "")
            if with_directions:
                row.append(_top_direction(result))
            table.add_row(*row)
        return table

    def __rich_console__(self, console, options):
        yield self.table(options.max_width)

    def sticky_lines(self, console: Console, options) -> int:
        """The title and the column headings, down to the rule under them: what a stepper keeps on
        screen while the rows scroll."""
        for number, line in enumerate(console.render_lines(self, options, pad=False), start=1):
            text = "".join(segment.text for segment in line).strip()
            if text and set(text) <= {"─", "━", " "}:
                return number
        return 0

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """In a notebook: the table, as a terminal draws it."""
        from .._display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)


def summary_table(events: Sequence[Event], title: str = "trace summary", start: int = 1) -> SummaryTable:
    """The summary of ``events`` (numbered from ``start``), as a Rich renderable."""
    return SummaryTable(events, title=title, start=start)


def tape_view(tape) -> RenderableType:
    """A tape at a glance (what a notebook shows for it): how many steps of each phase, the summary
    table, and how to see more."""
    counts = [(phase, sum(1 for e in tape if e.phase == phase)) for phase in PHASE_COLOURS]
    head = Text(f"tape: {len(tape)} step{'s' if len(tape) != 1 else ''}", style="bold")
    for index, (phase, count) in enumerate((p, n) for p, n in counts if n):
        head.append(" · " if index else " — ", style="dim")
        head.append(f"{count} {phase}", style=PHASE_COLOURS[phase])
    hint = Text("trace.show(tape): every step · trace.browse(tape): one at a time · tape.graph(): the picture",
                style="dim")
    if not len(tape):
        return Group(head, Text("(nothing was recorded)", style="dim"))
    return Group(head, SummaryTable(list(tape), title=""), hint)


def print_tape(tape, console: Console | None = None, phase: str | None = None) -> None:
    """Print every event (or only one phase's), each as a panel; then what the tape's cap left out."""
    console = console or Console()
    events = [e for e in tape if phase is None or e.phase == phase]
    for event in events:
        console.print(render_event(event))
    note = tape.cap_note() if hasattr(tape, "cap_note") else None
    if note:
        console.print(f"{note} (trace.record(max_events=...) to change)", style="bold yellow", highlight=False)
