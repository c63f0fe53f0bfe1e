"""How values look: a Tensor's PyTorch-style ``repr``, and the one coloured grid of values.

The grid (`values_grid`) is what ``rich.print(tensor)`` shows and what every trace step shows for
each tensor and gradient: the last axis across, everything before it down the side, blue below 0,
red above, grey at 0, large tensors cut to their corners. It works on plain data (a shape and the
values in row-major order), so a Tensor and a trace snapshot draw the same way. Rich is imported
only when a grid is drawn.
"""
from __future__ import annotations

import math

from .shapes import flatten

# Diverging colours around 0: negative blue, positive red, both fading to grey at 0.
_NEGATIVE = (52, 120, 220)
_POSITIVE = (220, 70, 50)
_ZERO = (135, 135, 135)


# ---- repr ------------------------------------------------------------------------------------------

def _number(value, dtype: str, decimals: int) -> str:
    if dtype == "bool":
        return "True" if value else "False"
    if dtype == "int64":
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if decimals == 0:
        return f"{value:.0f}."
    return f"{value:.{decimals}f}"


def _decimals(values: list, dtype: str) -> int:
    """0 when every float is a whole number (printed ``2.`` as PyTorch does), else 4."""
    finite = [v for v in values if not (math.isnan(v) or math.isinf(v))] if dtype == "float64" else []
    return 0 if all(float(v).is_integer() for v in finite) else 4


def format_tensor(t) -> str:
    """``tensor([[1., 2.]], requires_grad=True)``; large tensors keep their first and last 3 entries per axis."""
    values = t.tolist()
    flat, _ = flatten(values)
    decimals = _decimals(flat, t.dtype)
    cells = [_number(v, t.dtype, decimals) for v in flat]
    width = max((len(c) for c in cells), default=0)

    def render(item, depth: int) -> str:
        if not isinstance(item, list):
            return _number(item, t.dtype, decimals).rjust(width)
        parts = [render(x, depth + 1) for x in item]
        if len(parts) > 6:
            parts = parts[:3] + ["..."] + parts[-3:]
        sep = "," + "\n" * (t.ndim - depth - 1) + (" " * (8 + depth) if depth < t.ndim - 1 else " ")
        return "[" + sep.join(parts) + "]"

    body = render(values, 0)
    extras = []
    if not flat and t.ndim > 1:         # empty beyond 1-D: its shape, since [] alone cannot show it (PyTorch)
        body, extras = "[]", [f"size={shape_text(t.shape)}"]
    if t.requires_grad:
        extras.append("requires_grad=True" if t.is_leaf else f"grad_fn=<{type(t.grad_fn).__name__}>")
    if t.name:
        extras.append(f"name={t.name!r}")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


# ---- the grid ------------------------------------------------------------------------------------

def shape_text(shape: tuple[int, ...]) -> str:
    """``(3,)``, ``(2, 3)``, ``()``: a shape as Python writes a tuple."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def format_number(value, scale: float | None = None) -> str:
    """Short text for one entry: ``1.00``, ``-0.25``, ``0``, ``3.1e-05``, ``T``, ``7``.

    With ``scale`` (the largest |entry| of the grid) of at least 0.05, entries too small to matter
    beside it read ``0.00`` / ``-0.00``, so the columns keep one width; an exact zero is ``0``.
    """
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if scale is not None and scale >= 0.05 and abs(value) < 5e-3:
        return f"{value:.2f}"
    if abs(value) >= 1e4 or abs(value) < 5e-3:
        return f"{value:.1e}"
    return f"{value:.2f}"


def value_style(value, scale: float) -> str:
    """The colour of one entry: grey at 0, stronger blue / red as |value| approaches ``scale``."""
    if isinstance(value, bool):
        return "bold" if value else "dim"
    value = float(value)
    if value == 0 or scale == 0 or math.isnan(value):
        return "dim"
    share = min(1.0, abs(value) / scale)
    target = _POSITIVE if value > 0 else _NEGATIVE
    r, g, b = (round(z + (t - z) * (0.35 + 0.65 * share)) for z, t in zip(_ZERO, target))
    return f"{'bold ' if share >= 0.5 else ''}rgb({r},{g},{b})"


def _kept(n: int, limit: int) -> list[int | None]:
    """Indices to show out of ``n``: all of them, or the first and last few with None for the gap."""
    if n <= limit:
        return list(range(n))
    head = (limit + 1) // 2
    tail = limit - head
    return list(range(head)) + [None] + list(range(n - tail, n))


def values_grid(shape: tuple[int, ...], values, max_rows: int = 6, max_cols: int = 8):
    """Row-major ``values`` of ``shape`` as a Rich grid: the last axis across, the rest down the side
    (rows labelled ``[i,j]`` from 2-D on); ``…`` and ``⋮`` stand for what does not fit."""
    from rich.table import Table
    from rich.text import Text

    if not shape:
        return Text(format_number(values[0]), style=value_style(values[0], abs(float(values[0])) or 1.0))
    numbers = [abs(float(v)) for v in values if not (isinstance(v, float) and math.isnan(v))]
    scale = max(numbers, default=0.0)
    cols = shape[-1]
    rows = len(values) // cols if cols else 0
    if rows == 0 or cols == 0:
        return Text(f"(empty {shape_text(shape)})", style="dim")
    lead_shape = shape[:-1]

    def row_label(r: int) -> str:
        index = []
        for size in reversed(lead_shape):
            index.append(r % size)
            r //= size
        return "[" + ",".join(str(i) for i in reversed(index)) + "]"

    grid = Table.grid(padding=(0, 1))
    show_labels = len(shape) >= 2
    if show_labels:
        grid.add_column(justify="right", style="dim")
    col_index = _kept(cols, max_cols)
    for _ in col_index:
        grid.add_column(justify="right")
    for r in _kept(rows, max_rows):
        if r is None:
            cells = [Text("⋮", style="dim") for _ in col_index]
            grid.add_row(*([Text("")] if show_labels else []), *cells)
            continue
        cells = []
        for c in col_index:
            if c is None:
                cells.append(Text("…", style="dim"))
            else:
                v = values[r * cols + c]
                cells.append(Text(format_number(v, scale), style=value_style(v, scale)))
        grid.add_row(*([Text(row_label(r))] if show_labels else []), *cells)
    return grid


def rich_grid(t, max_rows: int = 8, max_cols: int = 8):
    """A Tensor for Rich (``rich.print(t)``): its shape, dtype and name above the grid of its values."""
    from rich.console import Group
    from rich.text import Text

    values, _ = flatten(t.tolist())
    header = Text(f"{shape_text(tuple(t.shape))} {t.dtype}", style="dim")
    if t.name:
        header.append(f"  {t.name}", style="bold")
    return Group(header, values_grid(tuple(t.shape), values, max_rows=max_rows, max_cols=max_cols))
