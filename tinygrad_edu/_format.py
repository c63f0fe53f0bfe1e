"""How a tensor looks: PyTorch-style ``repr`` and a small coloured grid for Rich."""
from __future__ import annotations

import math


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
    flat = _flatten(values)
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
    if t.requires_grad:
        extras.append("requires_grad=True" if t.is_leaf else f"grad_fn=<{type(t.grad_fn).__name__}>")
    if t.name:
        extras.append(f"name={t.name!r}")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _flatten(values) -> list:
    if not isinstance(values, list):
        return [values]
    out = []
    for v in values:
        out.extend(_flatten(v))
    return out


def cell_style(value: float, scale: float) -> str:
    """Diverging colours around 0: blue for negative, red for positive, brighter when larger."""
    if scale == 0 or value == 0 or value != value:
        return "dim"
    strength = min(abs(value) / scale, 1.0)
    level = 1 + int(strength * 4.999)
    reds = ["", "#ffd0c0", "#ff9f80", "#ff7050", "#ff4020", "#ff0000"]
    blues = ["", "#c0d8ff", "#80b0ff", "#5090ff", "#2070ff", "#0050ff"]
    return (reds if value > 0 else blues)[level]


def rich_grid(t, max_rows: int = 8, max_cols: int = 8):
    """A tensor as a Rich table: values coloured by sign and size, the shape in the title."""
    from rich.table import Table
    from rich.text import Text

    data = t.tolist()
    if t.ndim == 0:
        data = [[data]]
    elif t.ndim == 1:
        data = [data]
    elif t.ndim > 2:
        data = t.data.reshape((t.numel() // max(t.shape[-1], 1), t.shape[-1])).tolist()
    flat = _flatten(data)
    numeric = [float(v) for v in flat if not isinstance(v, bool)]
    scale = max((abs(v) for v in numeric if v == v and abs(v) != math.inf), default=0.0)
    decimals = _decimals(flat, t.dtype) if t.dtype == "float64" else 0
    title = f"{tuple(t.shape)} {t.dtype}" + (f"  {t.name}" if t.name else "")
    table = Table(title=title, show_header=False, box=None, padding=(0, 1))
    shown_cols = min(len(data[0]) if data else 0, max_cols + 1)
    for _ in range(shown_cols):
        table.add_column(justify="right")
    rows = data if len(data) <= max_rows else data[:max_rows // 2] + [None] + data[-(max_rows // 2):]
    for row in rows:
        if row is None:
            table.add_row(*[Text("⋮", style="dim")])
            continue
        cols = row if len(row) <= max_cols else row[:max_cols // 2] + [None] + row[-(max_cols // 2):]
        table.add_row(*[Text("…", style="dim") if v is None else
                        Text(_number(v, t.dtype, decimals), style=cell_style(float(v), scale)) for v in cols])
    return table
