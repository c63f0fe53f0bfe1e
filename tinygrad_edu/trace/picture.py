"""A picture of the computation graph, drawn by the project itself: SVG (no Graphviz needed) and DOT text.

micrograd's ``draw_dot`` taught a generation of students to read backprop off a picture: one box per
value with its data and its gradient, one small node per op, left to right. This is that picture for
a recorded tape, with tensors instead of scalars:

* one box per tensor: its name, its shape, its values (the numbers themselves when they are few, else
  min / mean / max), its gradient ∂L/∂tensor when backward ran, its value after the optimizer's step,
  and the named directions it mostly points along when the tape has a vocabulary;
* one node per op (one per forward step), with the op's formula in this step's names (``t1 = x @ W.T``);
* leaves marked: grey for an input, yellow for a parameter (a leaf that requires grad, which the
  optimizer changes), red for the loss backward started from.

    graph = ComputationGraph.from_tape(tape)        # or tape.graph()
    graph.svg()          # SVG text; shown as the picture in a notebook
    graph.dot()          # the same graph as Graphviz DOT text, for ``dot -Tpng``
    graph.save("graph.svg")                         # .svg or .dot

The boxes are placed by `layout.layered_layout` (columns by depth, barycenter ordering) and the SVG
is written here as text: the standard library only, with the values coloured as the terminal's grids
colour them (blue below 0, red above).
"""
from __future__ import annotations

import math
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .._format import format_number, shape_text, value_style
from .events import BackwardEvent, ForwardEvent, Snapshot, UpdateEvent
from .layout import Layout, layered_layout

__all__ = ["TensorBox", "OpNode", "ComputationGraph", "SvgText", "GRAPH_SUFFIXES"]

GRAPH_SUFFIXES = (".svg", ".dot")

# Sizes in pixels. The font is monospaced, so a line's width is its number of characters times one
# advance: DejaVu Sans Mono, Menlo and Consolas all advance about 0.6 em, and renderers that hint the
# font round the advance to whole pixels (7 at 11 px), so the larger of the two is used.
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE, HEADER_SIZE, SMALL_SIZE = 12.0, 12.0, 11.0
ADVANCE = 0.602
LINE, PAD = 16.0, 8.0
TITLE_HEIGHT, LEGEND_HEIGHT = 30.0, 44.0

ROWS_SHOWN, COLUMNS_SHOWN = 3, 6          # up to 3 rows of up to 6 numbers are written out in full
FORMULA_WIDTH = 36                         # an op's formula wraps at this many characters

INK, DIM, EDGE = "#222222", "#6f6f6f", "#8a8a8a"
# role -> (header fill, border)
ROLE_COLOURS = {
    "parameter": ("#fbe7a1", "#b8921c"),
    "leaf": ("#e4e4e4", "#8c8c8c"),
    "loss": ("#f6cfc7", "#b83a26"),
    "output": ("#d3ecd4", "#3f8a45"),
    "intermediate": ("#eef1f5", "#8e99a8"),
}
OP_FILL, OP_BORDER = "#e3eefb", "#4a78b0"
ROLE_MEANING = {
    "parameter": "parameter: a leaf that requires grad (the optimizer changes it)",
    "leaf": "leaf: an input the graph starts from",
    "loss": "loss: where backward started",
    "output": "output: computed, not used further",
}


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """How wide ``text`` is in the monospaced font (wide East Asian characters take two cells)."""
    cells = sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
                for c in text)
    return cells * max(ADVANCE * size, round(ADVANCE * size))


def wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` characters, at spaces where it can be."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            while len(word) > width:                       # a single word longer than a line
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
            candidate = f"{line} {word}" if line else word
            if len(candidate) <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


# ---- the graph as data -------------------------------------------------------------------------------

@dataclass
class TensorBox:
    """One tensor of the graph: ``value`` as it first appeared, ``grad`` (flat values of ∂L/∂tensor,
    None before backward), ``after`` (its value after the optimizer's step, for a parameter), ``role``
    (``parameter``, ``leaf``, ``loss``, ``output`` or ``intermediate``), ``made_by`` (the step of the op
    that made it; None for a leaf)."""

    key: int
    value: Snapshot
    role: str = "intermediate"
    grad: tuple | None = None
    after: Snapshot | None = None
    made_by: int | None = None

    @property
    def name(self) -> str:
        return self.value.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def node_id(self) -> str:
        return f"tensor-{self.key}"


@dataclass
class OpNode:
    """One op of the graph (one forward step): its formula with this step's names, its inputs' keys
    in order, its output's key, and its derivative (as the op states it, for the tooltip)."""

    step: int
    op: str
    formula: str
    inputs: tuple[int, ...]
    output: int
    derivative: str = ""

    @property
    def node_id(self) -> str:
        return f"op-{self.step}"


def _add(total: list[float] | None, values) -> list[float]:
    numbers = [float(v) for v in values]
    if total is None:
        return numbers
    return [a + b for a, b in zip(total, numbers)] if len(total) == len(numbers) else total


class ComputationGraph:
    """The tensors and ops of a tape's forward steps, with gradients and updates read off the rest."""

    def __init__(self, tensors: dict[int, TensorBox], ops: list[OpNode], roots: list[int], title: str = "",
                 tape=None):
        self.tensors, self.ops, self.roots, self.title = tensors, ops, roots, title
        self._tape = tape

    @classmethod
    def from_tape(cls, tape, title: str = "") -> "ComputationGraph":
        """The graph of ``tape`` (a `Tape`, or any sequence of events with an optional ``roots`` list).

        A tensor's gradient is what backward gave it: for a tensor an op made, the ∂L/∂output its op's
        backward received; for a leaf, the sum of what every op that used it sent back (as ``.grad``
        accumulates). Several backward passes add up, as they would in ``.grad``.
        """
        tensors: dict[int, TensorBox] = {}
        ops: list[OpNode] = []
        received: dict[int, list[float]] = {}       # key -> ∂L/∂tensor as its op's backward got it
        sent: dict[int, list[float]] = {}           # key -> the sum of what backward sent to it
        after: dict[int, Snapshot] = {}
        update_grads: dict[int, list[float]] = {}
        for event in tape:
            if isinstance(event, ForwardEvent) and event.output is not None:
                for snap in event.inputs:
                    tensors.setdefault(snap.key, TensorBox(snap.key, snap))
                out = event.output
                if out.key not in tensors:
                    tensors[out.key] = TensorBox(out.key, out, made_by=event.step)
                ops.append(OpNode(event.step, event.op, event.bound_formula() or event.plain_formula(),
                                  tuple(s.key for s in event.inputs), out.key))
            elif isinstance(event, BackwardEvent):
                if event.grad_output is not None and event.output is not None:
                    received[event.output.key] = _add(received.get(event.output.key), event.grad_output.values)
                for snap, grad in zip(event.inputs, event.input_grads):
                    if grad is not None:
                        sent[snap.key] = _add(sent.get(snap.key), grad.values)
            elif isinstance(event, UpdateEvent) and event.after is not None:
                after[event.after.key] = event.after
                if event.grad is not None:
                    update_grads[event.after.key] = [float(v) for v in event.grad.values]
        # The op's derivative in this step's names, from its backward step (for the tooltip).
        forward_of = {op.output: op for op in ops}
        for event in tape:
            if isinstance(event, BackwardEvent) and event.output is not None and event.output.key in forward_of:
                forward_of[event.output.key].derivative = event.bound_formula() or event.plain_formula()
        used = {key for op in ops for key in op.inputs}
        roots = [key for key in getattr(tape, "roots", []) if key in tensors]
        for key, box in tensors.items():
            grad = received.get(key) if box.made_by is not None else None
            if grad is None:
                grad = sent.get(key) or update_grads.get(key)
            box.grad = tuple(grad) if grad is not None and len(grad) == box.value.numel() else None
            box.after = after.get(key)
            if key in roots:
                box.role = "loss"
            elif box.made_by is None:
                box.role = "parameter" if box.value.requires_grad and box.value.is_leaf else "leaf"
            elif key not in used:
                box.role = "output"
        return cls(tensors, ops, list(dict.fromkeys(roots)), title=title, tape=tape)

    # ---- structure ----------------------------------------------------------------------------------
    def edges(self) -> list[tuple[str, str]]:
        """(from, to) node ids: every input into its op, every op into its output."""
        found = []
        for op in self.ops:
            found.extend((self.tensors[key].node_id, op.node_id) for key in op.inputs)
            found.append((op.node_id, self.tensors[op.output].node_id))
        return found

    def __len__(self) -> int:
        return len(self.tensors) + len(self.ops)

    def __repr__(self) -> str:
        return f"ComputationGraph({len(self.tensors)} tensors, {len(self.ops)} ops)"

    # ---- what each node says ---------------------------------------------------------------------------
    def _tensor_lines(self, box: TensorBox) -> list[list[tuple[str, str, bool]]]:
        """The body of a tensor's box: lines of (text, colour, bold) pieces."""
        lines: list[list[tuple[str, str, bool]]] = []
        if box.role != "intermediate" and box.role != box.name:
            lines.append([(box.role, ROLE_COLOURS[box.role][1], True)])
        if box.value.dtype == "bool" or box.value.numel() == 0:
            lines.append([("data ", DIM, False), (_plain_values(box.value), INK, False)])
        else:
            lines += _number_lines("data ", box.value.shape, box.value.values)
        if box.grad is not None:
            lines += _number_lines("grad ", box.value.shape, box.grad)
        if box.after is not None:
            lines += _number_lines("after", box.value.shape, box.after.values)
        along = _strong_directions(box.value)
        if along:
            lines.append([("along ", DIM, False), (along, INK, False)])
        return lines

    def _op_lines(self, op: OpNode) -> list[str]:
        """The formula, on one line when it fits, else broken after its "=" first (the output on a line
        of its own), then at spaces."""
        if not op.formula:
            return []
        left, equals, right = op.formula.partition(" = ")
        if len(op.formula) <= FORMULA_WIDTH or not equals:
            return wrap(op.formula, FORMULA_WIDTH)
        return wrap(left + " =", FORMULA_WIDTH) + wrap(right, FORMULA_WIDTH)

    def _sizes(self) -> dict[str, tuple[float, float]]:
        """Each node's (width, height) in the picture, in the order the nodes were made."""
        sizes: dict[str, tuple[float, float]] = {}
        for box in self.tensors.values():
            header = text_width(box.name, HEADER_SIZE) + text_width("  " + shape_text(box.shape), SMALL_SIZE)
            body = [sum(text_width(text) for text, _, _ in line) for line in self._tensor_lines(box)]
            width = max([header] + body) + 2 * PAD
            height = LINE + 8 + LINE * len(body) + PAD
            sizes[box.node_id] = (max(width, 96.0), height)
        for op in self.ops:
            lines = self._op_lines(op)
            width = max([text_width(op.op, FONT_SIZE)] + [text_width(t, SMALL_SIZE) for t in lines]) + 2 * PAD + 12
            sizes[op.node_id] = (width, LINE * (1 + len(lines)) + 2 * 5)
        # Lay nodes out in the order they first appear in a step, so ties are broken the way the code reads.
        ordered: dict[str, tuple[float, float]] = {}
        for op in self.ops:
            for key in op.inputs:
                node = self.tensors[key].node_id
                ordered.setdefault(node, sizes[node])
            ordered[op.node_id] = sizes[op.node_id]
            ordered.setdefault(self.tensors[op.output].node_id, sizes[self.tensors[op.output].node_id])
        for node, size in sizes.items():
            ordered.setdefault(node, size)
        return ordered

    def layout(self) -> Layout:
        """Where every box goes (see `layout.layered_layout`), before the title's band is added."""
        return layered_layout(self._sizes(), self.edges())

    # ---- SVG -------------------------------------------------------------------------------------------
    def svg(self) -> "SvgText":
        """The picture as SVG text (valid XML; one ``<g class="tensor">`` per tensor, one ``<g class="op">``
        per op, one ``<path class="edge">`` per edge, each naming its ends in ``data-from`` / ``data-to``)."""
        layout = self.layout()
        # The arrowhead's id differs between graphs, so several pictures can share one page (a notebook).
        arrow = f"arrow-{zlib.crc32(self.dot().encode('utf-8')):08x}"
        top = TITLE_HEIGHT if self.title else 0.0
        width = max(layout.width, 560.0)
        height = layout.height + top + LEGEND_HEIGHT
        body: list[str] = []
        body.append(f'<rect class="background" x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="white"/>')
        if self.title:
            body.append(_text(16, 21, [(self.title, INK, True)], HEADER_SIZE))
        if not self.ops:
            body.append(_text(16, top + 24, [("(no forward ops recorded)", DIM, False)], FONT_SIZE))
        edges = self.edges()
        body.append('<g class="edges">')
        for (source, target), route in zip(edges, layout.routes):
            body.append(f'<path class="edge" data-from="{source}" data-to="{target}" d="{_path(route, top)}" '
                        f'fill="none" stroke="{EDGE}" stroke-width="1.3" marker-end="url(#{arrow})"/>')
        body.append("</g>")
        body.append('<g class="ops">')
        for op in self.ops:
            body.append(self._op_svg(op, layout, top))
        body.append("</g>")
        body.append('<g class="tensors">')
        for box in self.tensors.values():
            body.append(self._tensor_svg(box, layout, top))
        body.append("</g>")
        body.append(self._legend_svg(height - LEGEND_HEIGHT + 8))
        text = "\n".join(body)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
                f'viewBox="0 0 {_n(width)} {_n(height)}" font-family={quoteattr(FONT)} font-size="{_n(FONT_SIZE)}">\n'
                f'<title>{escape(self.title or "computation graph")}</title>\n'
                f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                f'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{EDGE}"/></marker></defs>\n')
        return SvgText(head + text + "\n</svg>\n", tensors=len(self.tensors), ops=len(self.ops))

    def _tensor_svg(self, box: TensorBox, layout: Layout, top: float) -> str:
        place = layout.nodes[box.node_id]
        x, y, w, h = place.x, place.y + top, place.width, place.height
        fill, border = ROLE_COLOURS[box.role]
        header = LINE + 8
        tooltip = _tooltip(box)
        parts = [f'<g class="tensor {box.role}" id="{box.node_id}" data-name={quoteattr(box.name)} '
                 f'data-shape={quoteattr(shape_text(box.shape))}>',
                 f"<title>{escape(tooltip)}</title>",
                 f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="4" fill="white" '
                 f'stroke="{border}" stroke-width="1.4"/>',
                 f'<path d="M {_n(x)} {_n(y + header)} V {_n(y + 4)} Q {_n(x)} {_n(y)} {_n(x + 4)} {_n(y)} '
                 f'H {_n(x + w - 4)} Q {_n(x + w)} {_n(y)} {_n(x + w)} {_n(y + 4)} V {_n(y + header)} Z" '
                 f'fill="{fill}" stroke="{border}" stroke-width="1.4"/>',
                 _text(x + PAD, y + 17, [(box.name, INK, True)], HEADER_SIZE),
                 _text(x + w - PAD, y + 17, [(shape_text(box.shape), DIM, False)], SMALL_SIZE, anchor="end")]
        for row, line in enumerate(self._tensor_lines(box)):
            parts.append(_text(x + PAD, y + header + 13 + row * LINE, line, FONT_SIZE))
        parts.append("</g>")
        return "\n".join(parts)

    def _op_svg(self, op: OpNode, layout: Layout, top: float) -> str:
        place = layout.nodes[op.node_id]
        x, y, w, h = place.x, place.y + top, place.width, place.height
        tooltip = f"step {op.step}: {op.op}\n{op.formula}" + (f"\nbackward: {op.derivative}" if op.derivative else "")
        parts = [f'<g class="op" id="{op.node_id}" data-op={quoteattr(op.op)}>',
                 f"<title>{escape(tooltip)}</title>",
                 f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(min(h / 2, 14))}" '
                 f'fill="{OP_FILL}" stroke="{OP_BORDER}" stroke-width="1.4"/>',
                 _text(x + w / 2, y + 5 + 12, [(op.op, OP_BORDER, True)], FONT_SIZE, anchor="middle")]
        for row, line in enumerate(self._op_lines(op)):
            parts.append(_text(x + w / 2, y + 5 + 12 + (row + 1) * LINE, [(line, INK, False)], SMALL_SIZE,
                               anchor="middle"))
        parts.append("</g>")
        return "\n".join(parts)

    def _legend_svg(self, y: float) -> str:
        roles = [role for role in ROLE_MEANING if any(box.role == role for box in self.tensors.values())]
        parts = ['<g class="legend">']
        x = 16.0
        for role in roles:
            fill, border = ROLE_COLOURS[role]
            parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="12" height="12" rx="2" fill="{fill}" stroke="{border}"/>')
            label = ROLE_MEANING[role]
            parts.append(_text(x + 18, y + 10, [(label, DIM, False)], SMALL_SIZE))
            x += 18 + text_width(label, SMALL_SIZE) + 22
        notes = ["data: values", "grad: ∂L/∂tensor"] if any(b.grad is not None for b in self.tensors.values()) \
            else ["data: values"]
        if any(b.after is not None for b in self.tensors.values()):
            notes.append("after: after the optimizer's step")
        parts.append(_text(16, y + 26, [("   ·   ".join(notes), DIM, False)], SMALL_SIZE))
        parts.append("</g>")
        return "\n".join(parts)

    # ---- DOT -----------------------------------------------------------------------------------------
    def dot(self) -> str:
        """The graph as Graphviz DOT text (``dot -Tsvg graph.dot``): one line per tensor, one per op, one per edge."""
        lines = ["digraph computation {",
                 "  rankdir=LR;",
                 f'  graph [fontname="{FONT.split(",")[0]}", label={_dot_string(self.title)}, labelloc=t];',
                 f'  node [fontname="{FONT.split(",")[0]}", fontsize=11];',
                 f'  edge [color="{EDGE}"];']
        for box in self.tensors.values():
            text = [f"{box.name}  {shape_text(box.shape)}"]
            text += ["".join(piece for piece, _, _ in line) for line in self._tensor_lines(box)]
            fill, border = ROLE_COLOURS[box.role]
            label = "".join(_dot_escape(line) + "\\l" for line in text)
            lines.append(f'  "{box.node_id}" [shape=box, style="rounded,filled", fillcolor="{fill}", '
                         f'color="{border}", label="{label}"];')
        for op in self.ops:
            label = "\\n".join(_dot_escape(line) for line in [op.op, *self._op_lines(op)])
            lines.append(f'  "{op.node_id}" [shape=box, style="rounded,filled", fillcolor="{OP_FILL}", '
                         f'color="{OP_BORDER}", label="{label}"];')
        for source, target in self.edges():
            lines.append(f'  "{source}" -> "{target}";')
        lines.append("}")
        return "\n".join(lines) + "\n"

    # ---- files and displays ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the picture (``.svg``) or the DOT text (``.dot``) to ``path``."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in GRAPH_SUFFIXES:
            raise ValueError(f"graph: cannot write {path.name!r}: the file must end in .svg or .dot")
        path.write_text(self.svg() if suffix == ".svg" else self.dot(), encoding="utf-8")
        return path

    def __rich__(self):
        from .graph import graph_tree

        return graph_tree(self._tape if self._tape is not None else [])

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        return self.svg()._repr_mimebundle_(include, exclude)


class SvgText(str):
    """SVG text that a notebook shows as the picture (and a console as one line saying what it is).

    It is a ``str``: write it to a file, search it, parse it as XML.
    """

    tensors: int = 0
    ops: int = 0

    def __new__(cls, text: str, tensors: int = 0, ops: int = 0):
        made = super().__new__(cls, text)
        made.tensors, made.ops = tensors, ops
        return made

    def __repr__(self) -> str:
        return f"<SVG picture of a computation graph: {self.tensors} tensors, {self.ops} ops, {len(self)} characters>"

    def _repr_svg_(self) -> str:
        return str(self)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        # As HTML in a scrolling box, so a wide graph keeps its size instead of shrinking to the cell.
        data = {"text/html": f'<div style="overflow-x:auto;max-width:100%">{self}</div>',
                "image/svg+xml": str(self), "text/plain": repr(self)}
        return {k: v for k, v in data.items() if (not include or k in include) and k not in (exclude or ())}

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(str(self), encoding="utf-8")
        return path


# ---- small pieces -----------------------------------------------------------------------------------

def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros (short, and the same on every machine)."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, pieces, size: float, anchor: str = "start") -> str:
    spans = []
    for text, colour, bold in pieces:
        weight = ' font-weight="bold"' if bold else ""
        spans.append(f'<tspan fill="{colour}"{weight}>{escape(text)}</tspan>')
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}"{anchor_attr} xml:space="preserve">'
            + "".join(spans) + "</text>")


def _path(route: list[tuple[float, float]], top: float) -> str:
    """The edge's path: curves across the gaps between columns, straight lines through columns."""
    (x0, y0), rest = route[0], route[1:]
    parts = [f"M {_n(x0)} {_n(y0 + top)}"]
    previous = route[0]
    for index, (x, y) in enumerate(rest):
        if index % 2 == 0:          # across a gap: leave and arrive horizontally
            bend = (x - previous[0]) / 2
            parts.append(f"C {_n(previous[0] + bend)} {_n(previous[1] + top)} {_n(x - bend)} {_n(y + top)} "
                         f"{_n(x)} {_n(y + top)}")
        else:                       # through a column, beside the boxes
            parts.append(f"L {_n(x)} {_n(y + top)}")
        previous = (x, y)
    return " ".join(parts)


def _colour(value, scale: float) -> str:
    """The grid's colour for one number, as SVG wants it."""
    style = value_style(value, scale)
    if "rgb(" in style:
        return "rgb(" + style.split("rgb(", 1)[1]
    return DIM


def _plain_values(snap: Snapshot) -> str:
    if snap.numel() == 0:
        return f"(empty {shape_text(snap.shape)})"
    shown = [str(v) for v in snap.values[:COLUMNS_SHOWN]]
    return "[" + " ".join(shown) + (" …]" if snap.numel() > COLUMNS_SHOWN else "]")


def _number_lines(label: str, shape: tuple[int, ...], values) -> list[list[tuple[str, str, bool]]]:
    """``data [1.00 0 -0.50]`` (a row per line, up to 3 rows of 6), or min / mean / max when larger."""
    numbers = [float(v) for v in values]
    finite = [abs(v) for v in numbers if not math.isnan(v)]
    scale = max(finite, default=0.0)
    if not numbers:
        return [[(label + " ", DIM, False), (f"(empty {shape_text(shape)})", DIM, False)]]
    if not shape:
        return [[(label + " ", DIM, False), (format_number(numbers[0]), _colour(numbers[0], scale or 1.0), False)]]
    columns = shape[-1]
    rows = len(numbers) // columns if columns else 0
    if columns <= COLUMNS_SHOWN and rows <= ROWS_SHOWN:
        lines = []
        for r in range(rows):
            row = numbers[r * columns:(r + 1) * columns]
            pieces: list[tuple[str, str, bool]] = [(label + " " if r == 0 else " " * (len(label) + 1), DIM, False),
                                                   ("[", DIM, False)]
            for c, v in enumerate(row):
                pieces.append(((" " if c else "") + format_number(v, scale), _colour(v, scale), False))
            pieces.append(("]", DIM, False))
            lines.append(pieces)
        return lines
    low, high = min(numbers), max(numbers)
    mean = math.fsum(numbers) / len(numbers)
    pieces = [(label + " ", DIM, False)]
    for name, v in (("min", low), ("mean", mean), ("max", high)):
        pieces += [(f"{name} ", DIM, False), (format_number(v) + "  ", _colour(v, scale), False)]
    zeros = sum(1 for v in numbers if v == 0) / len(numbers)
    lines = [pieces]
    if zeros >= 0.25:
        lines.append([(" " * (len(label) + 1), DIM, False), (f"{zeros:.0%} zero", DIM, False)])
    return lines


def _strong_directions(snap: Snapshot) -> str:
    """The named directions a vector mostly points along (those with at least half the largest projection)."""
    if not snap.projections or len(snap.projections) != 1:
        return ""
    projections = snap.projections[0]
    largest = max((abs(v) for v in projections.values()), default=0.0)
    if largest <= 5e-3:
        return ""
    strong = [(name, v) for name, v in projections.items() if abs(v) >= 0.5 * largest]
    text = " ".join(f"{'+' if v > 0 else '−'}{name}" for name, v in strong[:3])
    return text + (" …" if len(strong) > 3 else "")


def _tooltip(box: TensorBox) -> str:
    """What hovering over a box shows: the name, shape, role and the first values in full."""
    first = ", ".join(repr(v) for v in box.value.values[:12]) + (", …" if box.value.numel() > 12 else "")
    lines = [f"{box.name} {shape_text(box.shape)} {box.value.dtype} ({box.role})", f"data: [{first}]"]
    if box.grad is not None:
        grad = ", ".join(f"{v:.6g}" for v in box.grad[:12]) + (", …" if len(box.grad) > 12 else "")
        lines.append(f"grad: [{grad}]")
    return "\n".join(lines)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _dot_string(text: str) -> str:
    return '"' + _dot_escape(text) + '"'
